#!/bin/bash
# SPDX-License-Identifier: MIT
# A broken config at start: pdyndns answers HELO with the reason (PowerDNS logs it as the
# banner), answers nothing, never exits, and costs PowerDNS no timeouts: every question is
# REFUSED quickly.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
mkdir -p "$work/zone"
printf '{\n  "domain": "dyn.example.test",\n  "ttl": 60,,\n}\n' > "$work/zone/config.json"

start_pdns "$work/pdns" "$work/zone/config.json" 3 || { fail "pdns did not start with a broken config"; finish; }
for name in dyn.example.test t1.dyn.example.test; do
    for type in SOA A; do
        t0=$(date +%s%N)
        st=$(status_of "$name" "$type")
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        expect_eq "$name $type: REFUSED" REFUSED "$st"
        [ "$ms" -lt 1500 ] && ok || fail "$name $type took $ms ms: PowerDNS waited for something"
    done
done
kill -0 "$PDNS_PID" 2>/dev/null && ok || fail "pdns_server exited"
log=$(cat "$work/pdns/pdns.log")
expect_match "banner carries the reason" \
    "Backend launched with banner: OK.pdyndns [0-9.]+: config error, serving nothing: $work/zone/config.json:3:13: error: expected a string key, got ','" "$log"
expect_match "the reason is logged on stderr too" "pdyndns\[[0-9]+\]: error: $work/zone/config.json:3:13:" "$log"
if grep -qE 'Timeout|Child closed|exiting|killed' "$work/pdns/pdns.log"; then
    fail "PowerDNS saw timeouts or coprocess deaths:"; grep -E 'Timeout|Child closed|exiting|killed' "$work/pdns/pdns.log"
else ok; fi

# Fixing the config brings the zone up without a restart.
printf '192.0.2.7\n' > "$work/zone/v4.txt"
cat > "$work/zone/config.json.new" <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60,
 "handlers": [{"qname": "t1.dyn.example.test", "qtype": "A", "file": "v4.txt"}]}
JSON
mv "$work/zone/config.json.new" "$work/zone/config.json"
for _ in $(seq 40); do [ "$(q +short t1.dyn.example.test A)" = 192.0.2.7 ] && break; sleep 0.1; done
expect_eq "fixed config is picked up" 192.0.2.7 "$(q +short t1.dyn.example.test A)"
finish
