#!/bin/bash
# SPDX-License-Identifier: MIT
# What pdyndns and pdynctl say is what they serve, through the real PowerDNS: a config of 2
# handlers with 3 views is counted so (not "5 handlers") by --check, the banner, the log,
# pdynctl status and reload; a weighted list whose weights are all 0 is counted as serving
# nothing, and indeed answers no address (dig, pdynctl query) while its view still answers;
# and pdnsutil backend-cmd pipe status, answered by a copy started for it, says so and
# reports the copies that serve questions.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
PDNSUTIL=${PDNSUTIL:-$(command -v pdnsutil || echo /usr/bin/pdnsutil)}
[ -x "$PDNSUTIL" ] || { echo "SKIP: pdnsutil not installed"; exit 77; }

zone=$work/zone
mkdir -p "$zone"
printf '192.0.2.1\n192.0.2.2\n' > "$zone/www.txt"
printf '198.51.100.7\n' > "$zone/v1.txt"
printf '203.0.113.7\n' > "$zone/v2.txt"
printf '192.0.2.50 0\n192.0.2.51 0\n' > "$zone/zero.txt"
printf '198.51.100.9\n' > "$zone/v3.txt"
cat > "$zone/config.json" <<'JSON'
{
  "loglevel": "info",
  "domain": "dyn.example.test",
  "soa": "ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 120",
  "nameservers": ["ns1.example.test"],
  "ttl": 60,
  "handlers": [
    {"qname": "www.dyn.example.test", "qtype": "A", "file": "www.txt",
     "views": [{"name": "v1", "prefixes": ["198.51.100.0/24"], "file": "v1.txt"},
               {"name": "v2", "prefixes": ["203.0.113.0/24"], "file": "v2.txt"}]},
    {"qname": "zero.dyn.example.test", "qtype": "A", "file": "zero.txt", "policy": "weighted",
     "views": [{"name": "v3", "prefixes": ["198.51.100.0/24"], "file": "v3.txt"}]}
  ]
}
JSON

# --check: handlers and views apart
out=$("$PDYNDNS" --check --config "$zone/config.json" 2>/dev/null); rc=$?
expect_eq "check: exit 0" 0 $rc
expect_eq "check: 2 handlers, 3 views" "$zone/config.json: ok: zone dyn.example.test, 2 handlers, 3 views, 7 addresses" "$out"

dir=$work/pdns
start_pdns "$dir" "$zone/config.json" 5 "distributor-threads=2" || { fail "start"; finish; }
ctl() { "$PDYNCTL" --dir "$dir/ctl" "$@"; }
for _ in $(seq 50); do [ "$(ctl --json list 2>/dev/null | jq '.copies | length')" -ge 3 ] && break; sleep 0.1; done

expect_match "the banner counts handlers and views, and the list with every weight 0" \
    'Backend launched with banner: OK.pdyndns [0-9.]+ pid [0-9]+: zone dyn\.example\.test, generation 1, 2 handlers, 3 views \(0 without addresses, 1 with every weight 0\), 7 addresses' \
    "$(cat "$dir/pdns.log")"
expect_match "the log line at load counts them so" \
    "info: $zone/config.json: zone dyn\.example\.test, 2 handlers, 3 views, 7 addresses; some handlers serve nothing" \
    "$(cat "$dir/pdns.log")"
expect_eq "no line says 5 handlers" 0 "$(grep -c '5 handlers' "$dir/pdns.log")"

# every weight 0: no address for a client outside its view, as from a list that did not
# load (nothing else is at the name: NXDOMAIN); the view still answers its clients
expect_eq "dig zero A: NXDOMAIN, nothing else is at the name" NXDOMAIN "$(status_of zero.dyn.example.test A)"
expect_eq "dig zero A: no address" "" "$(q +short zero.dyn.example.test A)"
expect_match "pdynctl query zero A: NXDOMAIN from every copy" '^(pid [0-9]+: NXDOMAIN
?)+$' "$(ctl query zero.dyn.example.test A)"
expect_match "pdynctl query zero A from its view's client: the view's address" \
    'zero\.dyn\.example\.test	[0-9]+	IN	A	198\.51\.100\.9' "$(ctl query zero.dyn.example.test A --client 198.51.100.1)"
for i in 1 2 3 4; do q +short www.dyn.example.test A; done > /dev/null

# pdynctl status: the header counts, and the row of the list with every weight 0 says so
out=$(ctl status)
expect_match "status header: 2 handlers, 3 views" 'generation 1, 2 handlers, 3 views, 7 addresses' "$out"
expect_match "status: the weights are all 0, no address answered" \
    'weights: total 0, 2 drained: 192\.0\.2\.50=0 192\.0\.2\.51=0
      every weight is 0: it answers no address, as a list that did not load' "$out"
expect_eq "status --json: n_handlers, n_views, n_drained" "2 3 1" \
    "$(ctl --json status | jq -r '.copies[0].result | "\(.n_handlers) \(.n_views) \(.n_drained)"')"

# a reload (the watcher's, here): the summary counts the list with every weight 0 among
# those serving nothing
printf '192.0.2.1\n192.0.2.2\n192.0.2.3\n' > "$zone/www.txt.new" && mv "$zone/www.txt.new" "$zone/www.txt"
for _ in $(seq 100); do grep -q 'generation 2 applied' "$dir/pdns.log" && break; sleep 0.1; done
expect_match "reload: handlers, views, and what serves nothing" \
    'generation 2 applied: zone dyn\.example\.test, 2 handlers, 3 views, 8 addresses; 1 lists new or changed, 0 kept after an error, 1 serving nothing \(1 with every weight 0\)' \
    "$(cat "$dir/pdns.log")"
sleep 0.5 # every copy applied it

# pdnsutil backend-cmd: pdnsutil starts copies of its own; the one answering says it serves
# no question, and reports each copy that does, as that copy says of itself
serving=$(ctl --json list | jq -r '.copies[].pid' | sort -n)
out=$("$PDNSUTIL" --config-dir="$dir" backend-cmd pipe status 2>&1); rc=$?
expect_eq "backend-cmd status: exit 0" 0 $rc
expect_match "backend-cmd status: a copy started for the command says so" \
    'this copy was started for this command \(pdnsutil backend-cmd\) and serves no question' "$out"
for pid in $serving; do
    expect_match "backend-cmd status: serving copy $pid, as it says of itself" \
        "  pid $pid: generation 2, up [0-9]+ s, [0-9]+ lookups? answered \($dir/ctl/pdyndns\.$pid\.sock\)" "$out"
done
expect_match "backend-cmd status: the serving copies answered the questions" \
    'pid [0-9]+: generation 2, up [0-9]+ s, ([1-9][0-9]+ lookups|[2-9] lookups) answered' "$out"
expect_match "backend-cmd status: how to see their rotations" "pdynctl --dir $dir/ctl status" "$out"
expect_match "backend-cmd status: the counts" '2 handlers, 3 views \(0 without addresses, 1 with every weight 0\)' "$out"
stop_pid "$PDNS_PID"
finish
