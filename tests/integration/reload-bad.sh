#!/bin/bash
# SPDX-License-Identifier: MIT
# Bad input during live updates, through the real PowerDNS. Each case breaks t1's list (or
# the config) while t2's list changes in the same step: t1 keeps its previous answers, t2
# serves its new list (the config cases keep everything), and the log gains exactly the
# lines in tests/data/reload/CASE.expect (paths as $DIR, pids as PID, generations as N). Each failure is
# logged once, not again at every poll.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
golden=${top_srcdir:-$top}/tests/data/reload
z=$work/zone
mkdir -p "$z"
list() { printf '10.%d.0.1\n10.%d.0.2\n10.%d.0.3\n' "$1" "$1" "$1"; }
list 1 > "$z/t1.txt"; list 1 > "$z/t2.txt"
cat > "$z/config.json" <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60,
 "handlers": [{"qname": "t1.dyn.example.test", "qtype": "A", "file": "t1.txt"},
              {"qname": "t2.dyn.example.test", "qtype": "A", "file": "t2.txt"}]}
JSON
cp "$z/config.json" "$work/config.good"
# PowerDNS and pdyndns run as nobody, so that a file without read permission is unreadable
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    PDNS_AS=nobody
    chmod 755 "$work" "$z"
fi
start_pdns "$work/pdns" "$z/config.json" 1 || { fail "start"; finish; }
log=$work/pdns/pdns.log
# one pdyndns copy answers UDP, one TCP: each logs, so keep the lines of the UDP one
udp_pid() { "$PDYNCTL" --dir "$work/pdns/ctl" --json status | jq -r '.copies[] | select(.result.lookups > 0) | .pid' | head -1; }
q +short t1.dyn.example.test A >/dev/null
mine=$(udp_pid)
version() { q +short "$1.dyn.example.test" A | cut -d. -f2; }
wait_version() { # NAME VERSION: until NAME serves VERSION (3 s at most)
    local i; for i in $(seq 150); do [ "$(version "$1")" = "$2" ] && return 0; sleep 0.02; done; return 1
}
new_lines() { tail -n +"$(( $1 + 1 ))" "$log" | grep "^pdyndns\[$mine\]: error: " | sed "s|^pdyndns\[$mine\]|pdyndns[PID]|; s|$work/zone|\$DIR|g; s|generation [0-9]*|generation N|"; }

v=1
run_case() { # NAME SETUP-FUNCTION KIND(file|config)
    local name=$1 kind=$3 before got want
    before=$(wc -l < "$log")
    v=$((v + 1))
    $2
    if [ "$kind" = file ]; then
        list "$v" > "$z/t2.txt.new"; mv "$z/t2.txt.new" "$z/t2.txt"
        wait_version t2 "$v" && ok || fail "$name: t2's new list was not applied"
    else
        sleep 0.3
    fi
    sleep 0.1
    expect_eq "$name: t1 keeps its previous list" 1 "$(version t1)"
    [ "$kind" = config ] && expect_eq "$name: t2 keeps its list too" "$((v - 1))" "$(version t2)"
    got=$(new_lines "$before")
    want=$(cat "$golden/$name.expect")
    expect_eq "$name: logged lines" "$want" "$got"
    # repair
    cp "$work/config.good" "$z/config.json.new"; mv "$z/config.json.new" "$z/config.json"
    rm -rf "$z/t1.txt"; list 1 > "$z/t1.txt.new"; mv "$z/t1.txt.new" "$z/t1.txt"
    [ "$kind" = config ] && { list "$v" > "$z/t2.txt.new"; mv "$z/t2.txt.new" "$z/t2.txt"; }
    wait_version t2 "$v" || fail "$name: repair did not apply"
    sleep 0.1
}

truncated() { printf '10.9.0.1\n10.9.0.' > "$z/t1.txt.new"; mv "$z/t1.txt.new" "$z/t1.txt"; }
garbage() { printf '10.9.0.1\nthis is not an address\n' > "$z/t1.txt.new"; mv "$z/t1.txt.new" "$z/t1.txt"; }
ipv6() { printf '10.9.0.1\n2001:db8::9\n' > "$z/t1.txt.new"; mv "$z/t1.txt.new" "$z/t1.txt"; }
empty() { : > "$z/t1.txt.new"; mv "$z/t1.txt.new" "$z/t1.txt"; }
directory() { /usr/bin/python3 -c 'import os, sys; os.unlink(sys.argv[1]); os.mkdir(sys.argv[1])' "$z/t1.txt"; }
deleted() { rm "$z/t1.txt"; }
json_error() { printf '{"domain": "dyn.example.test",\n  "ttl": 60,\n  "handlers": [\n' > "$z/config.json.new"; mv "$z/config.json.new" "$z/config.json"; list 9 > "$z/t2.txt"; }
json_error_late() { # the config breaks first; a list changes once that is known
    printf '{"domain": "dyn.example.test",\n  "ttl": 60,\n  "handlers": [\n' > "$z/config.json.new"; mv "$z/config.json.new" "$z/config.json"
    sleep 0.5; list 9 > "$z/t2.txt"; }
schema_error() { sed 's/"ttl": 60/"ttl": "sixty"/' "$work/config.good" > "$z/config.json.new"; mv "$z/config.json.new" "$z/config.json"; list 9 > "$z/t2.txt"; }

run_case truncated truncated file
run_case garbage garbage file
run_case ipv6-in-a-list ipv6 file
run_case empty empty file
run_case directory directory file
run_case deleted deleted file
run_case json-error json_error config
run_case json-error-late json_error_late config
run_case schema-error schema_error config

unreadable() { chmod 000 "$z/t1.txt"; }
if [ -n "${PDNS_AS:-}" ] || [ "$(id -u)" != 0 ]; then
    run_case unreadable unreadable file
else
    fail "the unreadable-file case needs setpriv (util-linux) to run PowerDNS as nobody"
fi

# once: a bad file stays bad across polls (every 2 s) and is logged one time only
before=$(wc -l < "$log")
garbage
sleep 5
expect_eq "a lasting problem is logged once" 2 "$(new_lines "$before" | wc -l)"
finish
