#!/bin/bash
# SPDX-License-Identifier: MIT
# valgrind.sh [RELOADS]: pdyndns under valgrind (memcheck, full leak check) through start,
# RELOADS reloads (default 10,000) asked with pdynctl reload, with questions between them
# and a list replaced every 100 reloads, and shutdown at EOF. Passes when valgrind reports 0 errors and 0 leaked bytes. Not part of
# make check (it takes minutes); `make valgrind` runs it. Prints the figures.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
PDYNCTL=${PDYNCTL:-$top/ctl/pdynctl}
N=${1:-10000}
command -v valgrind >/dev/null || { echo "valgrind: not installed"; exit 2; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
cd "$tmp" || exit 1
printf '10.0.0.%d\n' 1 2 3 > v4.txt
printf '2001:db8::%d\n' 1 2 > v6.txt
cat > c.json <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60, "loglevel": "warning",
 "handlers": [{"qname": "t1.dyn.example.test", "qtype": "A", "file": "v4.txt"},
              {"qname": "t1.dyn.example.test", "qtype": "AAAA", "file": "v6.txt"}]}
JSON
mkfifo in
valgrind --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=definite,indirect,possible \
    --error-exitcode=99 --log-file=vg.log \
    "$PDYNDNS" --config c.json --control-dir "$tmp/ctl" < in > out.txt 2> err.txt &
pid=$!
exec {W}>in
printf 'HELO\t3\n' >&$W
start=$(date +%s)
for _ in $(seq 600); do ls "$tmp"/ctl/*.sock >/dev/null 2>&1 && break; sleep 0.1; done
q=$'Q\tt1.dyn.example.test\tIN\tANY\t1\t127.0.0.1\t127.0.0.1\t127.0.0.1/32'
rc=0
for ((i = 0; i < N; i++)); do
    # pdynctl reload returns once the copy applied (or refused) the reload
    "$PDYNCTL" --dir "$tmp/ctl" reload > /dev/null || { echo "reload $i failed"; rc=1; break; }
    [ $((i % 10)) = 0 ] && printf '%s\n' "$q" >&$W
    if [ $((i % 100)) = 99 ]; then # a changed list now and then: parsed, swapped, freed
        printf '10.%d.0.%d\n' $((i / 100 % 256)) 1 $((i / 100 % 256)) 2 > v4.txt.tmp
        mv v4.txt.tmp v4.txt
    fi
done
exec {W}>&-
wait "$pid"; vrc=$?
pid=
secs=$(( $(date +%s) - start ))
answers=$(grep -c '^END$' out.txt)
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' vg.log | tail -1)
echo "valgrind: $N reloads and $answers answers in ${secs} s; exit $vrc, errors ${errors:-0}"
grep -E 'in use at exit|All heap blocks|definitely|indirectly|possibly|still reachable|ERROR SUMMARY' vg.log | sed 's/^==[0-9]*== */  /'
[ $rc -eq 0 ] && [ $vrc -eq 0 ] && [ "${errors:-0}" = 0 ] && [ "$answers" -ge $((N / 10)) ]
