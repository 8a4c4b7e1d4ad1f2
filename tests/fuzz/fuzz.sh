#!/bin/bash
# SPDX-License-Identifier: MIT
# fuzz.sh BUILDDIR SRCDIR (`make fuzz`): builds every fuzz target with clang-14 and
# libFuzzer (-fsanitize=fuzzer,address,undefined, no recovery), runs each for FUZZ_SECONDS
# on a scratch copy of its committed corpus, and prints one line per target: executions,
# new corpus entries, crashes. A crash leaves its input in BUILDDIR/tests/fuzz/crashes/
# and makes the exit status 1; add such an input to tests/fuzz/corpus/TARGET once fixed,
# and make check replays it from then on.
#
# env: FUZZ_SECONDS  seconds per target (default 60)
#      FUZZ_TARGETS  default "pipe addrlist config ctl script ctlreply trie"
#      FUZZ_RUNS     stop a target after this many executions instead (FUZZ_SECONDS still caps it)
#      FUZZ_JOBS     parallel libFuzzer workers per target (default 1)
#      FUZZ_MERGE=1  merge what the run found into the committed corpus (minimised)
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
secs=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-pipe addrlist config ctl script ctlreply trie}
jobs=${FUZZ_JOBS:-1}
CC=${FUZZ_CC:-clang-14}
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (./autogen.sh --deps installs it)"; exit 2; }

bin=$build/tests/fuzz/bin crashes=$build/tests/fuzz/crashes
mkdir -p "$bin" "$crashes"
scratch=$(mktemp -d /tmp/pdyndns-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -include "$build/config.h" -I"$src/common" -I"$src/daemon" -I"$src/tests/unit"
       $(pkg-config --cflags json-c libsystemd cmocka))
libs=($(pkg-config --libs json-c libsystemd cmocka) -lm -lpthread)
common=("$src"/common/*.c)
status=0
for t in $targets; do
    extra=()
    [ "$t" = pipe ] && extra=("$src/daemon/session.c" "$src/daemon/status.c" "$src/daemon/log.c" "$src/tests/unit/fixture.c" -Wl,--wrap=write)
    [ "$t" = ctlreply ] && extra=(-I"$src/ctl" "$src/ctl/render.c")
    # the targets that parse a config per input compile its patterns once (regcache.c)
    case $t in config | script) extra+=("$src/tests/fuzz/regcache.c" -Wl,--wrap=regcomp,--wrap=regfree) ;; esac
    # Sources built without comparison tracing (trace-cmp: a callback per comparison, which
    # gives the mutator values to try); their edges still count as coverage. For code that
    # runs long fixed loops per input: prefixtrie_freeze() fills 65,536 index entries (it
    # walked the trie once for each of them then, and those callbacks were three quarters of
    # fuzz-trie's time).
    nocmp=() srcs=("${common[@]}")
    [ "$t" = trie ] && nocmp=("$src/common/prefixtrie.c")
    for f in "${nocmp[@]}"; do
        o=$bin/$t-$(basename "$f" .c).o
        "$CC" "${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" -fno-sanitize-coverage=trace-cmp -c -o "$o" "$f"
        srcs=("${srcs[@]/$f/$o}")
    done
    "$CC" "${flags[@]}" -o "$bin/fuzz-$t" "$src/tests/fuzz/fuzz-$t.c" "${extra[@]}" "${srcs[@]}" "${libs[@]}"
    mkdir -p "$scratch/$t"
    cp "$src/tests/fuzz/corpus/$t"/* "$scratch/$t/"
    before=$(ls "$scratch/$t" | wc -l)
    log=$build/tests/fuzz/fuzz-$t.log
    rm -f "$build"/tests/fuzz/fuzz-[0-9]*.log
    rc=0 par=() t0=$(date +%s)
    [ -n "${FUZZ_RUNS:-}" ] && par=(-runs="$FUZZ_RUNS")
    # parallel workers write their own logs (fuzz-N.log) in the current directory
    [ "$jobs" -gt 1 ] && par+=(-jobs="$jobs" -workers="$jobs")
    # -entropic_scale_per_exec_time=1: an input that runs longer is mutated less often (up
    # to 30 times), not less carefully. A few slow inputs (an address list of a /8 takes
    # 260 ms, the rest microseconds) took most of the time; with it 10 to 15 s runs did 2.1
    # to 2.9 times the executions at the same coverage (addrlist, config, ctlreply, trie).
    (cd "$build/tests/fuzz" && ASAN_OPTIONS=detect_leaks=1 "$bin/fuzz-$t" -max_total_time="$secs" \
        -print_final_stats=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 -entropic_scale_per_exec_time=1 "${par[@]}" \
        -artifact_prefix="$crashes/$t-" "$scratch/$t") > "$log" 2>&1 || rc=$?
    # with parallel workers the executions are counted in the workers' logs only: the
    # controller's log repeats the log of a worker that crashed
    logs=($(compgen -G "$build/tests/fuzz/fuzz-[0-9]*.log" || true))
    [ "$jobs" -gt 1 ] || logs=("$log")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "${logs[@]:-/dev/null}" | awk '{s += $1} END {print s + 0}')
    # crash-, leak-, timeout- and oom- inputs are findings; slow-unit- ones (over 10 s, which a
    # loaded machine can cause) are reported for a look, not counted
    found=$(ls "$crashes" | grep -c "^$t-\(crash\|leak\|timeout\|oom\)-" || true)
    slow=$(ls "$crashes" | grep -c "^$t-slow-unit-" || true)
    echo "fuzz $t: $execs executions in $(($(date +%s) - t0)) s, corpus $before -> $(ls "$scratch/$t" | wc -l)," \
        "crashes $found, slow inputs $slow (exit $rc)"
    if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
        status=1
        grep -m1 -A15 'ERROR\|invariant broken' "$log" || tail -20 "$log"
    fi
    if [ "${FUZZ_MERGE:-0}" = 1 ]; then
        "$bin/fuzz-$t" -merge=1 -max_len=8192 "$src/tests/fuzz/corpus/$t" "$scratch/$t" > /dev/null 2>&1
    fi
done
exit $status
