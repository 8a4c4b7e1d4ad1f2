#!/bin/bash
# SPDX-License-Identifier: MIT
# bench.sh BUILDDIR: the project's benchmarks. Prints a table of figures with the date and
# the machine. Work files go under a temp dir in /tmp, removed at the end.
set -euo pipefail
build=$1
work=$(mktemp -d /tmp/pdyndns-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "pdyndns benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cpus, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo
echo "## Live reload (reloadbench: lock-step over the pipe, as PowerDNS asks)"
"$build/tests/bench/reloadbench" "$build/daemon/pdyndns" "$work"
