#!/bin/bash
# SPDX-License-Identifier: MIT
# A real Prometheus scrapes pdyndns's HTTP endpoint (--metrics-listen) in socket mode behind
# PowerDNS, every second, and its HTTP API then shows: the target up; after N questions for a
# name with an L-address list, N/L answers for each address (two lists); a refused reload in
# pdyndns_reloads_total{result="refused"}.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}
[ -x "$PROMETHEUS" ] || { echo "SKIP: prometheus (Debian package prometheus) not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

start_metrics_zone

# 15 questions for t1 A (5 addresses), 8 for a.b.c A (4 addresses)
for i in $(seq 15); do q +short t1.dyn.example.test A; done > "$work/t1.out"
for i in $(seq 8); do q +short a.b.c.dyn.example.test A; done > "$work/abc.out"
expect_eq "dig: 15 answers for t1, 8 for a.b.c" "15 8" "$(wc -l < "$work/t1.out") $(wc -l < "$work/abc.out")"
# a refused reload: the previous generation is kept and counted
cp "$work/zone/config.json" "$work/config.good"
echo '{"domain": ' > "$work/zone/config.json"
"$PDYNCTL" --dir "$work/ctl" reload > "$work/reload.out" 2>&1
expect_eq "pdynctl reload of a broken config exits 1" 1 $?

pport=$(free_port)
cat > "$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pdyndns
    static_configs:
      - targets: ['127.0.0.1:$mport']
YML
"$PROMETHEUS" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn > "$work/prometheus.log" 2>&1 &
pdns_pids+=($!) # stopped by finish/cleanup with the rest

# promq EXPR: the result of an instant query, one "LABEL=VALUE,... VALUE" line per series,
# sorted (nothing while Prometheus is not up or has no sample yet)
promq() {
    curl -sS --max-time 2 "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
        python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
rows = []
for r in d.get("data", {}).get("result", []):
    m = r["metric"]
    rows.append(",".join("%s=%s" % (k, m[k]) for k in sorted(m) if k not in ("instance", "job", "__name__")) + " " + r["value"][1])
print("\n".join(sorted(rows)))'
}
# wait_for LABEL EXPR WANT: asks every half second, for at most 60 s, until EXPR gives WANT
# (Prometheus drops empty labels: view="" is not there)
wait_for() {
    local label=$1 expr=$2 want=$3 got=
    for _ in $(seq 120); do
        got=$(promq "$expr")
        [ "$got" = "$want" ] && break
        sleep 0.5
    done
    expect_eq "$label" "$want" "$got"
}

wait_for "the target is up" 'up{job="pdyndns"}' " 1"
wait_for "t1 A: 15 questions, 5 addresses, 3 answers each" \
    'pdyndns_address_answers_total{name="t1.dyn.example.test",qtype="A"}' \
    "$(printf 'address=192.0.2.%d,name=t1.dyn.example.test,qtype=A 3\n' 1 2 3 4 5)"
wait_for "a.b.c A: 8 questions, 4 addresses, 2 answers each" \
    'pdyndns_address_answers_total{name="a.b.c.dyn.example.test"}' \
    "$(printf 'address=198.51.100.%d,name=a.b.c.dyn.example.test,qtype=A 2\n' 1 2 3 4)"
wait_for "the refused reload (inotify's and pdynctl's)" 'pdyndns_reloads_total{result="refused"} > 0' \
    "result=refused $(curl -sS --max-time 2 "http://127.0.0.1:$mport/metrics" | awk '$1 == "pdyndns_reloads_total{result=\"refused\"}" { print $2 }')"
wait_for "the config error" 'pdyndns_config_error' " 1"

# the config fixed: the next reload is applied and the scrapes say so
cp "$work/config.good" "$work/zone/config.json"
"$PDYNCTL" --dir "$work/ctl" reload > "$work/reload2.out" 2>&1
expect_eq "pdynctl reload of the fixed config exits 0" 0 $?
wait_for "the config error is gone" 'pdyndns_config_error' " 0"
q +short t1.dyn.example.test A > /dev/null
wait_for "one more question for t1 A: 16 answers" \
    'sum(pdyndns_address_answers_total{name="t1.dyn.example.test",qtype="A"})' " 16"
grep -iE 'error|warn' "$work/prometheus.log" | grep -v 'msg="Loading configuration file' | head -5
finish
