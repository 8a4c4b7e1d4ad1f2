#!/bin/bash
# SPDX-License-Identifier: MIT
# A list whose file identity does not move when it is rewritten (same size; mtime and ctime
# as they were: a filesystem whose attributes are cached, as NFS, or not kept), through the
# real PowerDNS: the event of its close names it, so it is read again all the same; so is a
# view's prefix file. pdyndns
# runs with tests/integration/frozen-times.c preloaded, which reports fixed times for files
# whose path holds "frozen".
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
CC=${CC:-cc}
command -v "$CC" > /dev/null || { echo "SKIP: no C compiler for the preloaded shim"; exit 77; }
"$CC" -shared -fPIC -O2 -o "$work/frozen-times.so" "$(dirname "$0")/frozen-times.c" -ldl ||
    { fail "the shim does not build"; finish; }
z=$work/zone
mkdir -p "$z"
list() { printf '10.%d.0.1\n10.%d.0.2\n10.%d.0.3\n' "$1" "$1" "$1"; }
list 1 > "$z/frozen.txt"
printf '192.0.2.1\n' > "$z/def.txt"
printf '192.0.2.41\n' > "$z/probes-addr.txt"
printf '127.0.0.0/8\n' > "$z/frozen-probes.txt"
cat > "$z/config.json" <<JSON
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60, "loglevel": "info",
 "handlers": [{"qname": "x.dyn.example.test", "qtype": "A", "file": "frozen.txt", "policy": "all"},
  {"qname": "probe.dyn.example.test", "qtype": "A", "file": "def.txt", "match": "resolver",
   "views": [{"name": "probes", "prefix_file": "frozen-probes.txt", "file": "probes-addr.txt"}]}]}
JSON
# (a build with sanitizers: the shim comes before their runtime, which then must not object)
PIPE_COMMAND="$(command -v env) LD_PRELOAD=$work/frozen-times.so ASAN_OPTIONS=verify_asan_link_order=0 $PDYNDNS --config $z/config.json --control-dir $work/pdns/ctl" \
    start_pdns "$work/pdns" "$z/config.json" 1 || { fail "start"; finish; }
answer() { q +short x.dyn.example.test A | sort | tr '\n' ' '; }
expect_eq "the first list" "$(list 1 | tr '\n' ' ')" "$(answer)"
# the copies run with the shim (else every check below would pass without the fix)
shimmed=0
for sock in "$work"/pdns/ctl/pdyndns.*.sock; do
    pid=${sock##*/pdyndns.}; pid=${pid%.sock}
    grep -q frozen-times.so "/proc/$pid/maps" 2>/dev/null && shimmed=$((shimmed + 1))
done
[ "$shimmed" -gt 0 ] && ok || fail "no copy of pdyndns runs with the shim"
for v in 2 3 4; do
    list $v > "$z/frozen.txt"
    want=$(list $v | tr '\n' ' ')
    for _ in $(seq 100); do [ "$(answer)" = "$want" ] && break; sleep 0.02; done
    expect_eq "version $v, its file's identity unchanged, read again at its close" "$want" "$(answer)"
done
# a view's prefix file: the resolver (127.0.0.1) in it, then not, the size the same
expect_eq "the resolver in the view" "192.0.2.41" "$(q +short probe.dyn.example.test A)"
printf '128.0.0.0/8\n' > "$z/frozen-probes.txt"
for _ in $(seq 100); do [ "$(q +short probe.dyn.example.test A)" = 192.0.2.1 ] && break; sleep 0.02; done
expect_eq "a prefix file, its identity unchanged, read again at its close" 192.0.2.1 "$(q +short probe.dyn.example.test A)"
finish
