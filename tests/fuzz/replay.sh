#!/bin/bash
# SPDX-License-Identifier: MIT
# make check's part of fuzzing: every fuzz target, built without libFuzzer, runs once on
# every input of its committed corpus (tests/fuzz/corpus/TARGET), so that a crash found
# once stays a regression test.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
top_srcdir=${top_srcdir:-$top}
build=${top_builddir:-$top}
fails=0 passes=0
for t in pipe addrlist config ctl script ctlreply trie; do
    if out=$("$build/tests/fuzz/replay-$t" "$top_srcdir/tests/fuzz/corpus/$t" 2>&1); then
        passes=$((passes + 1)); echo "$t: $out"
    else
        fails=$((fails + 1)); echo "FAIL: $t"; echo "$out" | tail -20
    fi
done
echo "replay: $passes passed, $fails failed"
[ $fails -eq 0 ]
