#!/bin/bash
# SPDX-License-Identifier: MIT
# pdynctl metrics through the real PowerDNS: promtool accepts the text; after N questions for
# a name with a 3-address list each address counts N/3 answers (exact rotation, summed across
# the copies); the rcode counters match what dig got; a refused reload shows in
# pdyndns_reloads_total{result="refused"}; a list longer than metrics_max_addresses has no
# per-address series; label values are escaped (a file name with a quote and a backslash);
# a view counts its hits; a control client without rights is counted as refused.
set -u
. "$(dirname "$0")/integration/lib.sh"
need_pdns
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}
[ -x "$PROMTOOL" ] || { echo "SKIP: promtool (Debian package prometheus) not installed"; exit 77; }

zone=$work/zone
mkdir -p "$zone"
printf '192.0.2.%d\n' 1 2 3 > "$zone/three.txt"
printf '203.0.113.%d\n' 1 2 > "$zone/lo.txt"
for i in $(seq 300); do printf '10.0.%d.%d\n' $((i / 256)) $((i % 256)); done > "$zone/we\"ird\\name.txt"
write_config() {
    cat > "$zone/config.json" <<JSON
{
  "domain": "dyn.example.test",
  "soa": "ns1.example.test. hostmaster.example.test. 2026112201 7200 3600 1209600 120",
  "nameservers": ["ns1.example.test"],
  "ttl": 3600,
  "handlers": [
    {"qname": "three.dyn.example.test", "qtype": "A", "file": "three.txt"},
    {"qname": "big.dyn.example.test", "qtype": "A", "file": "we\"ird\\\\name.txt"},
    {"qname": "lo.dyn.example.test", "qtype": "A", "file": "three.txt", "match": "resolver",
     "views": [{"name": "lo", "prefixes": ["127.0.0.0/8"], "file": "lo.txt"}]}
  ]
}
JSON
}
write_config
dir=$work/pdns
start_pdns "$dir" "$zone/config.json" 3 || { fail "start pdns"; finish; }
ctl() { "$PDYNCTL" --dir "$dir/ctl" "$@"; }
# value METRICS SERIES: the value of a series (its whole name and labels), or "none"
# (the series through the environment: awk -v would read its backslashes as escapes)
value() { S=$2 awk '$1 == ENVIRON["S"] { print $2; found = 1 } END { if (!found) print "none" }' <<<"$1"; }

# the rcodes dig sees, counted
declare -A seen=([NOERROR]=0 [NODATA]=0 [NXDOMAIN]=0)
ask() { local rc; rc=$(status_of "$@"); [ -n "$rc" ] && seen[$rc]=$((${seen[$rc]:-0} + 1)); echo "$rc"; }
N=12
for i in $(seq $N); do ask three.dyn.example.test A >/dev/null; done
for i in 1 2 3 4 5; do ask nope$i.dyn.example.test A >/dev/null; done
ask big.dyn.example.test A >/dev/null
for i in 1 2 3 4; do ask lo.dyn.example.test A >/dev/null; done
expect_eq "dig: NOERROR for the lists, NXDOMAIN for the names that do not exist" "17 5" "${seen[NOERROR]} ${seen[NXDOMAIN]}"
# a client without rights: every copy refuses it and counts it
if command -v setpriv >/dev/null; then
    # (the sockets opened to all: the copies themselves must refuse it)
    chmod 755 "$work" "$dir" "$dir/ctl"
    chmod 666 "$dir"/ctl/*.sock
    setpriv --reuid nobody --regid nogroup --clear-groups "$PDYNCTL" --dir "$dir/ctl" status > /dev/null 2>&1
    expect_eq "unprivileged status exits 4" 4 $?
fi

out=$(ctl metrics); rc=$?
expect_eq "pdynctl metrics exits 0" 0 "$rc"
echo "$out" > "$work/metrics.txt"
if "$PROMTOOL" check metrics < "$work/metrics.txt" > "$work/promtool.out" 2>&1; then ok; else
    fail "promtool check metrics refused the output:"; cat "$work/promtool.out"; fi
copies=$(value "$out" pdyndns_copies)
[ "$copies" -ge 2 ] 2>/dev/null && ok || fail "pdyndns_copies is $copies, expected the UDP and TCP copies at least"
for a in 1 2 3; do
    expect_eq "address 192.0.2.$a answered N/3 times" $((N / 3)) \
        "$(value "$out" "pdyndns_address_answers_total{name=\"three.dyn.example.test\",qtype=\"A\",view=\"\",address=\"192.0.2.$a\"}")"
done
expect_eq "answers of the 3-address list" $N \
    "$(value "$out" 'pdyndns_answers_total{name="three.dyn.example.test",qtype="A",view="",policy="round-robin"}')"
expect_eq "questions NOERROR as dig saw them" "${seen[NOERROR]}" "$(value "$out" 'pdyndns_questions_total{rcode="NOERROR"}')"
expect_eq "questions NXDOMAIN as dig saw them" "${seen[NXDOMAIN]}" "$(value "$out" 'pdyndns_questions_total{rcode="NXDOMAIN"}')"
expect_eq "questions NODATA as dig saw them" "${seen[NODATA]}" "$(value "$out" 'pdyndns_questions_total{rcode="NODATA"}')"
expect_eq "view hits: the resolver 127.0.0.1 is in the view's prefixes" 4 \
    "$(value "$out" 'pdyndns_view_hits_total{name="lo.dyn.example.test",qtype="A",view="lo"}')"
expect_eq "the view's list answered, each address twice" "2 2" \
    "$(value "$out" 'pdyndns_address_answers_total{name="lo.dyn.example.test",qtype="A",view="lo",address="203.0.113.1"}') $(value "$out" 'pdyndns_address_answers_total{name="lo.dyn.example.test",qtype="A",view="lo",address="203.0.113.2"}')"
if command -v setpriv >/dev/null; then
    expect_eq "control clients refused, one per copy" "$copies" "$(value "$out" pdyndns_control_refused_total)"
fi
expect_eq "the handler's questions" $N \
    "$(value "$out" 'pdyndns_handler_questions_total{name="three.dyn.example.test",qtype="A",view="",rcode="NOERROR"}')"
expect_match "SOA lookups counted" '^[1-9][0-9]*$' "$(value "$out" 'pdyndns_lookups_total{qtype="SOA"}')"
expect_eq "a list over metrics_max_addresses has no per-address series" "" \
    "$(grep '^pdyndns_address_answers_total{name="big' <<<"$out")"
expect_eq "its addresses, its file's name escaped" "300 0" \
    "$(value "$out" 'pdyndns_addresses{name="big.dyn.example.test",qtype="A",view=""}') $(value "$out" 'pdyndns_file_error{file="'"$zone"'/we\"ird\\name.txt"}')"
expect_eq "every family has HELP and TYPE" "$(grep -c '^# HELP' <<<"$out")" "$(grep -c '^# TYPE' <<<"$out")"
expect_eq "a generation per copy" "$copies" "$(grep -c '^pdyndns_generation{copy="[0-9]*"} 1$' <<<"$out")"
expect_eq "no reload refused yet" 0 "$(value "$out" 'pdyndns_reloads_total{result="refused"}')"

# a refused reload: every copy keeps its generation and counts it
echo '{"domain": ' > "$zone/config.json"
ctl reload > "$work/reload.out" 2>&1
expect_eq "pdynctl reload of a broken config exits 1" 1 $?
out=$(ctl metrics)
echo "$out" > "$work/metrics2.txt"
refused=$(value "$out" 'pdyndns_reloads_total{result="refused"}')
[ "$refused" -ge "$copies" ] 2>/dev/null && ok || fail "pdyndns_reloads_total{result=\"refused\"} is $refused, expected at least $copies"
expect_eq "config_error" 1 "$(value "$out" pdyndns_config_error)"
expect_eq "the copies share one rotation" 0 "$(value "$out" pdyndns_rotation_alone)"
expect_eq "each copy's last reload failed" "$copies" "$(grep -c '^pdyndns_last_reload_success{copy="[0-9]*"} 0$' <<<"$out")"
expect_eq "the reload durations are counted" "$(value "$out" 'pdyndns_reload_duration_seconds_bucket{le="+Inf"}')" \
    "$(value "$out" pdyndns_reload_duration_seconds_count)"
"$PROMTOOL" check metrics < "$work/metrics2.txt" > "$work/promtool.out" 2>&1 && ok ||
    { fail "promtool check metrics refused the output after the refused reload:"; cat "$work/promtool.out"; }

# the config back: applied, the counters of the unchanged list carried over
write_config
ctl reload > "$work/reload.out" 2>&1
expect_eq "pdynctl reload of the good config exits 0" 0 $?
out=$(ctl metrics)
[ "$(value "$out" 'pdyndns_reloads_total{result="applied"}')" -ge "$copies" ] 2>/dev/null && ok ||
    fail "applied reloads: $(value "$out" 'pdyndns_reloads_total{result="applied"}')"
expect_eq "an unchanged list keeps its counters over a reload" $((N / 3)) \
    "$(value "$out" 'pdyndns_address_answers_total{name="three.dyn.example.test",qtype="A",view="",address="192.0.2.1"}')"

# --json: one document, every copy with its handlers
ctl --json metrics | jq -e '.copies | length >= 2 and all(.ok and (.result.handlers | length) == 4)' > /dev/null &&
    ok || fail "pdynctl --json metrics"
finish
