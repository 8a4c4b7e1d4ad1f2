#!/bin/bash
# SPDX-License-Identifier: MIT
# Exact rotation through the real PowerDNS: K·L questions for a name with an L-address list
# return each address K times, in file order, for every ABI, both consistent-backends
# settings, depth 1 and depth 3 names, A and AAAA.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
write_zone "$work/zone"

for abi in 1 2 3 4 5; do
    for cb in yes no; do
        dir=$work/abi$abi-$cb
        start_pdns "$dir" "$work/zone/config.json" "$abi" "consistent-backends=$cb" || { fail "start abi $abi cb $cb"; continue; }
        check_rotation "ABI $abi, consistent-backends=$cb" "$work/zone"
        stop_pid "$PDNS_PID"
    done
done
finish
