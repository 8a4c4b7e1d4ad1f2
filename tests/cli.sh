#!/bin/bash
# SPDX-License-Identifier: MIT
# Command-line behaviour of pdyndns and pdynctl: --version, --help, usage errors, --check
# verdicts and messages (golden), the banner and answers with a bad config, exit on EOF.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
PDYNCTL=${PDYNCTL:-$top/ctl/pdynctl}
TESTDATA=${TESTDATA:-$top/tests/data}
. "$(dirname "$0")/assert.sh" # passes, fails, ok, fail, expect_eq, expect_match

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

printf '10.0.0.1\n10.0.0.2\n' > v4.txt
printf '2001:db8::1\n' > v6.txt
cat > good.json <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60,
 "handlers": [{"qname": "t1.dyn.example.test", "qtype": "A", "file": "v4.txt"},
              {"qname": "t1.dyn.example.test", "qtype": "AAAA", "file": "v6.txt"}]}
JSON

# --version, --help, usage errors
out=$("$PDYNDNS" --version); expect_match "pdyndns --version" '^pdyndns [0-9]+\.[0-9]+\.[0-9]+$' "$out"
out=$("$PDYNCTL" --version); expect_match "pdynctl --version" '^pdynctl [0-9]+\.[0-9]+\.[0-9]+$' "$out"
out=$("$PDYNDNS" --help); expect_match "pdyndns --help" '--check --config FILE' "$out"
out=$("$PDYNCTL" --help); expect_match "pdynctl --help lists check" 'check +FILE' "$out"
"$PDYNDNS" >/dev/null 2>&1; expect_eq "pdyndns without --config exits 2" 2 $?
"$PDYNDNS" --bogus >/dev/null 2>&1; expect_eq "pdyndns unknown option exits 2" 2 $?
"$PDYNCTL" frobnicate >/dev/null 2>&1; expect_eq "pdynctl unknown command exits 2" 2 $?
# options after the command are checked like those before it
"$PDYNCTL" list --timeout x >/dev/null 2>&1; expect_eq "pdynctl: bad --timeout after the command exits 2" 2 $?
"$PDYNCTL" --timeout x list >/dev/null 2>&1; expect_eq "pdynctl: bad --timeout before the command exits 2" 2 $?
"$PDYNCTL" list --dir "$tmp/nothing-here" >/dev/null 2>&1; expect_eq "pdynctl: --dir after the command, no daemon: exit 3" 3 $?
# --timeout: a number of seconds, more than 0 and at most 3600 (NaN compares false with all)
for t in nan NaN inf -inf -1 0 1e300 3601 '' 1x; do
    out=$("$PDYNCTL" --timeout "$t" list --dir "$tmp/nothing-here" 2>&1); rc=$?
    expect_eq "pdynctl --timeout '$t': refused" "2 pdynctl: --timeout takes seconds, more than 0 and at most 3600, not \"$t\"" "$rc $out"
done
"$PDYNCTL" --timeout 0.0001 list --dir "$tmp/nothing-here" >/dev/null 2>&1; expect_eq "pdynctl --timeout 0.0001: taken" 3 $?

# pdynctl trusts no reply: a fake daemon serves crafted ones; each is said to be malformed
# (exit 1), never a crash
if [ -x /usr/bin/python3 ]; then
    cat > fake.py <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1] + ".new")  # in place only once it listens, as pdyndns's own sockets
s.listen(1)
os.rename(sys.argv[1] + ".new", sys.argv[1])
s.settimeout(10)  # pdynctl may never come (it failed before connecting): do not wait forever
c, _ = s.accept()
c.settimeout(5)
req = b""
while not req.endswith(b"\n"):
    d = c.recv(4096)
    if not d:
        break
    req += d
c.sendall(open(sys.argv[2], "rb").read())
c.close()
PY
    # fake NAME COMMAND REPLY: pdynctl COMMAND against a socket that sends REPLY; "rc output"
    fake() {
        local name=$1 cmd=$2 i
        printf '%s' "$3" > "reply.$name"
        rm -f "fake.sock"
        /usr/bin/python3 fake.py fake.sock "reply.$name" & local fp=$!
        for ((i = 0; i < 500; i++)); do [ -S fake.sock ] && break; sleep 0.02; done
        out=$("$PDYNCTL" --socket fake.sock --timeout 5 $cmd 2>&1); rc=$?
        wait $fp
        echo "$rc $out"
    }
    # without the status table: what pdynctl said about the reply
    said() { fake "$@" | grep -v '^  \|^[0-9]* pdyndns \|^pdyndns ' | sed '1s/^[0-9]* //'; }
    H='{"v":1,"ok":true,"result":{"pid":7,"zone":"d.test","generation":1},"stream":true}'
    I='{"v":1,"item":{"qname":"a.d.test","qtype":"A","addresses":1}}'
    E='{"v":1,"end":{"count":1,"missing":[]}}'
    bad() {
        local got
        got=$(fake "$1" "$2" "$3")
        expect_eq "malformed reply: $1: exit 1" 1 "${got%% *}"
        expect_eq "malformed reply: $1" "pdynctl: pid 7: malformed reply from fake.sock: $4" "$(said "$1" "$2" "$3")"
    }
    bad "a null in types" status "$H"$'\n''{"v":1,"item":{"qname":"w.d.test","types":[null],"serves":"x"}}'$'\n'"$E"$'\n' \
        '"types" holds an item that is not a string'
    bad "zones an object" status '{"v":1,"ok":true,"result":{"pid":7,"zones":{"a":1}},"stream":true}'$'\n' '"zones" is not an array'
    bad "served an object" status "$H"$'\n''{"v":1,"item":{"qname":"a","served":{"a":1}}}'$'\n'"$E"$'\n' '"served" is not an array'
    bad "weights of numbers" status "$H"$'\n''{"v":1,"item":{"qname":"a","weights":[1]}}'$'\n'"$E"$'\n' \
        '"weights" holds an item that is not an object'
    bad "a handler not an object" status '{"v":1,"ok":true,"result":{"pid":7,"handlers":[[]]}}'$'\n' 'a handler is not an object'
    bad "handlers an object (an older daemon's form)" status '{"v":1,"ok":true,"result":{"pid":7,"handlers":{}}}'$'\n' \
        '"handlers" is not an array'
    bad "a count that is not what was sent" status "$H"$'\n''{"v":1,"end":{"count":5,"missing":[]}}'$'\n' \
        'the count at its end is not the number of handlers sent'
    bad "a stream line of nothing known" status "$H"$'\n''{"v":1,"what":1}'$'\n' \
        'a line of the status stream is not an item, its end or an error'
    bad "reload messages an object" reload '{"v":1,"ok":true,"result":{"pid":7,"messages":{}}}'$'\n' '"messages" is not an array'
    bad "query answers an object" "query a.d.test A" '{"v":1,"ok":true,"result":{"pid":7,"answers":{"a":1}}}'$'\n' \
        '"answers" is not an array'
    bad "a ttl that is a string" "query a.d.test A" '{"v":1,"ok":true,"result":{"pid":7,"answers":[{"ttl":"x"}]}}'$'\n' \
        '"ttl" is not an integer'
    bad "list: a zone that is a number" list '{"v":1,"ok":true,"result":{"pid":7,"zone":5}}'$'\n' '"zone" is not a string'
    expect_eq "malformed reply: not the protocol" \
        "1 pdynctl: malformed reply from fake.sock: not a control protocol response (is this a pdyndns control socket?)" \
        "$(fake proto status 'HTTP/1.0 200 OK'$'\n')"
    expect_eq "a reply cut in the middle of a line" "pdynctl: pid 7: fake.sock: the reply ended in the middle of a line" \
        "$(said cut status "$H"$'\n'"${I:0:20}")"
    expect_eq "a stream without its end" "pdynctl: pid 7: fake.sock: the reply ended early" \
        "$(said noend status "$H"$'\n'"$I"$'\n')"
    # a time localtime() cannot take is shown as a number: not malformed
    out=$(fake time status '{"v":1,"ok":true,"result":{"pid":7,"last_reload":{"time":9223372036854775807,"ok":true,"result":"r"}},"stream":true}'$'\n'"$E"$'\n')
    expect_match "a huge last reload time" '^1 .*last reload: applied at time 9223372036854775807: r' "$out"
    out=$(fake ok status "$H"$'\n'"$I"$'\n'"$E"$'\n')
    expect_match "a well-formed stream: exit 0 and the row" '^0 .*a\.d\.test +A +round-robin +1 ' "$out"
    out=$(fake reloadbad reload '{"v":1,"ok":true,"result":{"pid":7,"result":"generation 2 applied: 1 kept after an error","messages":["f.txt:1: error: bad","f.txt: keeping the previous list for a A (1 addresses)"],"errors":["x"]}}'$'\n')
    expect_eq "reload that kept a list after an error: exit 1 and the lines" "1 pid 7: generation 2 applied: 1 kept after an error
pdynctl: pid 7: f.txt:1: error: bad
pdynctl: pid 7: f.txt: keeping the previous list for a A (1 addresses)" "$out"
    out=$(fake reloadold reload '{"v":1,"ok":true,"result":{"pid":7,"result":"generation 3 applied: 1 kept after an error","messages":[],"errors":["f.txt:1: error: bad; f.txt: keeping the previous list"]}}'$'\n')
    expect_eq "reload with a problem found by an earlier reload: exit 1 and the problem" "1 pid 7: generation 3 applied: 1 kept after an error
pdynctl: pid 7: f.txt:1: error: bad; f.txt: keeping the previous list" "$out"
fi

# --check on a good config
out=$("$PDYNDNS" --check --config good.json 2>&1); rc=$?
expect_eq "check good: exit" 0 $rc
expect_eq "check good: summary" "good.json: ok: zone dyn.example.test, 2 handlers, 3 addresses" "$out"
# several zones: the summary counts the others
out=$(cd "$TESTDATA/configs/good" && "$PDYNDNS" --check --config zones-reverse.json 2>&1)
expect_eq "check several zones: summary" "zones-reverse.json: ok: zone dyn.example.test and 3 more, 7 handlers, 4 addresses" "$out"

# --check does not read stdin: it must return with stdin left open
out=$(sleep 5 | timeout 3 "$PDYNDNS" --check --config good.json 2>&1); expect_eq "check ignores stdin" 0 $?

# --check on bad configs: every problem, then a count; pdynctl check says the same
printf '10.0.0.1\n10.0.0.300\n2001:db8::5\n' > bad-v4.txt
cat > bad.json <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60,
 "handlers": [{"qname": "t1.dyn.example.test", "qtype": "A", "file": "bad-v4.txt"},
              {"qname": "t2.dyn.example.test", "qtype": "A", "file": "missing.txt"}]}
JSON
out=$("$PDYNDNS" --check --config bad.json 2>&1); rc=$?
expect_eq "check bad files: exit" 1 $rc
expect_eq "check bad files: messages" "$tmp/bad-v4.txt:2: error: \"10.0.0.300\" is not an IPv4 address
$tmp/bad-v4.txt:3: error: \"2001:db8::5\" is an IPv6 address; an A list takes IPv4 only
$tmp/missing.txt: error: cannot open: No such file or directory
bad.json: 3 problems found" "$out"
out2=$("$PDYNCTL" check bad.json 2>&1); rc=$?
expect_eq "pdynctl check: exit" 1 $rc
expect_eq "pdynctl check: same messages as pdyndns --check" "$out" "$out2"

cat > schema.json <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1 h 1 2 3",
 "nameservers": [], "ttl": "60", "colour": "blue",
 "handlers": [{"qname": "t1.other.test", "qtype": "MX", "file": "v4.txt"}]}
JSON
out=$("$PDYNDNS" --check --config schema.json 2>&1); rc=$?
expect_eq "check schema errors: exit" 1 $rc
expect_eq "check schema errors: messages" 'schema.json: error: /colour: unknown key
schema.json: error: /soa: "ns1 h 1 2 3" is not "MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM" (host names and decimal numbers, single spaces)
schema.json: error: /nameservers: needs at least 1 item
schema.json: error: /ttl: expected an integer, got a string
schema.json: error: /handlers/0/qtype: expected "A" or "AAAA", got "MX"
schema.json: 5 problems found' "$out"

printf '{"domain": "x.test",\n  "ttl": 1,\n  "ttl": 2}\n' > dup.json
out=$("$PDYNDNS" --check --config dup.json 2>&1)
expect_eq "check duplicate key: line and column" 'dup.json:3:3: error: duplicate key "ttl"
dup.json: 1 problem found' "$out"

# Golden diagnostics for configs that are valid JSON Schema but wrong for pdyndns.
for f in "$TESTDATA"/configs/semantic/*.json; do
    [ -e "$f" ] || continue
    want=$(cat "${f%.json}.expect")
    out=$("$PDYNDNS" --check --config "$f" 2>&1); rc=$?
    expect_eq "semantic $(basename "$f"): exit" 1 $rc
    case $out in *"$want"*) ok ;; *) fail "semantic $(basename "$f"): '$want' not in: $out" ;; esac
done

# Policies: a weighted list whose weights are all 0 is valid, with a warning; a weight
# column under another policy is refused (tests/data/configs/semantic has the messages)
printf '10.0.0.1 0\n10.0.0.2 0\n' > drained.txt
sed 's/"file": "v4.txt"}/"file": "drained.txt", "policy": "weighted"}/' good.json > drained.json
out=$("$PDYNDNS" --check --config drained.json 2>&1); rc=$?
expect_eq "check all drained: exit" 0 $rc
expect_eq "check all drained: warning and summary" "$tmp/drained.txt: warning: every address has weight 0: t1.dyn.example.test A serves nothing
drained.json: ok: zone dyn.example.test, 2 handlers, 3 addresses" "$out"
out=$("$PDYNCTL" --json check drained.json); rc=$?
expect_eq "pdynctl check all drained: exit" 0 $rc
expect_match "pdynctl check --json: the warning" '"warnings": *\[ *"[^"]*drained.txt: warning: every address has weight 0' "$(echo $out)"
sed 's/"file": "v4.txt"}/"file": "drained.txt"}/' good.json > rr-weights.json
out=$("$PDYNDNS" --check --config rr-weights.json 2>&1); rc=$?
expect_eq "check weights under round-robin: exit" 1 $rc
expect_match "check weights under round-robin: file and line" 'drained.txt:1: error: "10.0.0.1 0": a weight column needs "policy": "weighted"' "$out"

# Serving with a bad config: one banner line with the reason, then END to everything,
# and exit 0 only at EOF.
printf '{"domain": \n' > broken.json
q=$'Q\tt1.dyn.example.test\tIN\tSOA\t-1\t0.0.0.0'
out=$(printf 'HELO\t1\n%s\n%s\n' "$q" "$q" | "$PDYNDNS" --config broken.json --control-dir "$tmp/ctl-broken" 2>/dev/null); rc=$?
expect_eq "bad config: exit 0 at EOF" 0 $rc
expect_eq "bad config: banner, then END per question" \
    "OK	pdyndns $("$PDYNDNS" --version | cut -d' ' -f2): config error, serving nothing: broken.json:2:1: error: expected a JSON value, got end of input
END
END" "$out"

# Serving a good config: keeps running until EOF even after garbage. (A control directory
# of its own: its rotation, shared through a file there, starts afresh.)
coproc P { "$PDYNDNS" --config good.json --control-dir "$tmp/ctl-good" 2>/dev/null; }
printf 'HELO\t2\n' >&"${P[1]}"; read -r -t 5 line <&"${P[0]}"
expect_match "good config: banner" '^OK	pdyndns .* zone dyn.example.test, generation 1, 2 handlers' "$line"
printf 'garbage\n' >&"${P[1]}"; read -r -t 5 line <&"${P[0]}"
expect_eq "garbage gets FAIL" "FAIL" "$line"
printf 'Q\tt1.dyn.example.test\tIN\tA\t1\t127.0.0.1\t127.0.0.1\n' >&"${P[1]}"
read -r -t 5 l1 <&"${P[0]}"; read -r -t 5 l2 <&"${P[0]}"
expect_eq "still answers after garbage" "DATA	t1.dyn.example.test	IN	A	0	1	10.0.0.1|END" "$l1|$l2"
kill -0 "$P_PID" 2>/dev/null; expect_eq "still running before EOF" 0 $?
ppid=$P_PID
exec {P[1]}>&-
for _ in $(seq 50); do kill -0 "$ppid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$ppid" 2>/dev/null && { fail "pdyndns did not exit at EOF"; kill "$ppid"; }
wait "$ppid" 2>/dev/null; expect_eq "exit status at EOF" 0 $?

# SIGTERM: a clean exit, the control socket removed
mkfifo fifo
( exec 3<>fifo; exec "$PDYNDNS" --config good.json --control-dir "$tmp/ctl" <&3 >/dev/null 2>&1 ) &
tpid=$!
for _ in $(seq 50); do ls "$tmp"/ctl/*.sock >/dev/null 2>&1 && break; sleep 0.1; done
[ -S "$tmp/ctl/pdyndns.$tpid.sock" ] && ok || fail "control socket pdyndns.$tpid.sock not created"
kill -TERM "$tpid"
wait "$tpid"; expect_eq "SIGTERM: exit status 0" 0 $?
[ -e "$tmp/ctl/pdyndns.$tpid.sock" ] && fail "SIGTERM left the control socket" || ok

# stderr a full pipe that nobody reads: questions are still answered, and the dropped log
# lines are counted in status
sed 's/"ttl": 60,/"ttl": 60, "loglevel": "debug",/' good.json > debug.json
mkfifo in2 errfifo
exec {E}<>errfifo # holds the pipe open, never reads it
"$PDYNDNS" --config debug.json --control-dir "$tmp/ctl2" <in2 >out2.txt 2>errfifo &
fpid=$!
{
    printf 'HELO\t1\n'
    for i in $(seq 3000); do printf 'BOGUS %d, a refused line logged at debug level, padded to fill the pipe\n' "$i"; done
    printf 'Q\tt1.dyn.example.test\tIN\tA\t1\t127.0.0.1\n'
} > flood.txt
exec {W}>in2
cat flood.txt >&$W
for _ in $(seq 100); do [ "$(wc -l < out2.txt)" -ge 3003 ] && break; sleep 0.1; done
expect_eq "stderr full: every line answered" "3000 FAIL, 1 END" \
    "$(grep -c '^FAIL$' out2.txt) FAIL, $(grep -c '^END$' out2.txt) END"
expect_match "stderr full: the question after the flood" $'DATA\tt1.dyn.example.test\tIN\tA\t0\t1\t10.0.0.1' "$(cat out2.txt)"
dropped=$("$PDYNCTL" --dir "$tmp/ctl2" status --json | jq -r ".copies[0].result.log_dropped")
[[ $dropped =~ ^[0-9]+$ ]] && [ "$dropped" -gt 2000 ] && ok || fail "stderr full: dropped lines not counted ($dropped)"
exec {W}>&-
for _ in $(seq 50); do kill -0 "$fpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$fpid" 2>/dev/null; then
    fail "stderr full: no exit at EOF (blocked on stderr?)"; kill -9 "$fpid"
fi
wait "$fpid"; expect_eq "stderr full: exit status at EOF" 0 $?
exec {E}>&-

# a list that is being written (truncated, half a line in, still open) keeps its previous
# addresses through a forced reload (SIGHUP, pdynctl reload) without an error; closing it
# applies it
printf '10.0.0.1\n10.0.0.2\n' > w4.txt
sed 's/"v4.txt"/"w4.txt"/; s/"ttl": 60,/"ttl": 60, "loglevel": "debug",/' good.json > hold.json
mkfifo hin hout
"$PDYNDNS" --config hold.json --control-dir "$tmp/ctl3" <hin >hout 2>hold.err &
hpid=$!
exec {HI}>hin {HO}<hout
ask_hold() { # prints the address of the next answer to t1 A (a new question: SOA first)
    local l a=
    printf 'Q\tt1.dyn.example.test\tIN\tSOA\t-1\t127.0.0.1\n' >&$HI
    read -r -t 5 l <&$HO
    printf 'Q\tt1.dyn.example.test\tIN\tA\t1\t127.0.0.1\n' >&$HI
    while read -r -t 5 l <&$HO; do
        [[ $l == DATA* ]] && a=${l##*$'\t'}
        [ "$l" = END ] && break
    done
    echo "$a"
}
printf 'HELO\t1\n' >&$HI; read -r -t 5 line <&$HO
for _ in $(seq 50); do ls "$tmp"/ctl3/*.sock >/dev/null 2>&1 && break; sleep 0.1; done
exec {WL}>w4.txt
printf '10.0.0.9\n10.0.0.' >&$WL
sleep 0.2
kill -HUP "$hpid"; sleep 0.3
"$PDYNCTL" --dir "$tmp/ctl3" reload > /dev/null; expect_eq "being written: pdynctl reload succeeds" 0 $?
expect_eq "being written: the previous list after SIGHUP and pdynctl reload" "10.0.0.1 10.0.0.2" "$(ask_hold) $(ask_hold)"
printf '8\n' >&$WL
exec {WL}>&-
for _ in $(seq 50); do grep -q 'generation .* 1 lists new or changed' hold.err && break; sleep 0.1; done
expect_eq "being written: closed, the new list" "10.0.0.9 10.0.0.8" "$(ask_hold) $(ask_hold)"
expect_eq "being written: no error logged" "" "$(grep ': error' hold.err)"
exec {HI}>&- {HO}<&-
wait "$hpid"

# the command table: offline commands take no option about copies; mutating ones say who may
out=$("$PDYNCTL" --dir "$tmp" check good.json 2>&1); rc=$?
expect_eq "pdynctl --dir DIR check: a usage error" "2 pdynctl: check asks no running copy: --dir, --socket, --client and --timeout do not apply" "$rc $out"
out=$("$PDYNCTL" check good.json --timeout 3 2>&1); expect_eq "pdynctl check --timeout: a usage error" 2 $?
expect_match "pdynctl --help: reload is for root or the daemon's user" "reload .*\(root or the daemon's user only\)" "$("$PDYNCTL" --help)"
expect_eq "pdynctl --help: status is for anyone allowed" "" "$("$PDYNCTL" --help | grep '^  status .*root')"

# socket mode on a path it must not take: one clear error line, exit 1
touch afile
out=$("$PDYNDNS" --config good.json --listen afile --control-dir "$tmp/ctl-listen" 2>&1 >/dev/null); rc=$?
expect_eq "--listen on a regular file exits 1" 1 "$rc"
expect_eq "--listen on a regular file: the error is said once" \
    "error: --listen afile: exists and is not a socket; not touching it" "$(grep -o 'error: .*' <<<"$out")"
expect_eq "--listen on a regular file: the file is left alone" "" "$(cat afile)"

echo "cli: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
