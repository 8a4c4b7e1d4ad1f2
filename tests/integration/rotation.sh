#!/bin/bash
# SPDX-License-Identifier: MIT
# Exact rotation through the real PowerDNS: K·L questions for a name with an L-address list
# return each address K times, in file order, for every ABI, both consistent-backends
# settings, depth 1 and depth 3 names, A and AAAA.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
write_zone "$work/zone"

K=3
# seq_of LIST-FILE K: the expected answers, file order repeated K times
seq_of() { local i; for ((i = 0; i < $2; i++)); do grep -v '^#' "$1"; done; }

for abi in 1 2 3 4 5; do
    for cb in yes no; do
        dir=$work/abi$abi-$cb
        start_pdns "$dir" "$work/zone/config.json" "$abi" "consistent-backends=$cb" || { fail "start abi $abi cb $cb"; continue; }
        tag="ABI $abi, consistent-backends=$cb"

        # depth 1, A (odd length 5): one question per dig call, UDP
        got=$(for i in $(seq 15); do q +short t1.dyn.example.test A; done)
        expect_eq "$tag: t1 A, 3 rounds" "$(seq_of "$work/zone/t1-v4.txt" $K)" "$got"

        # depth 3, A (even length 4): several questions in one dig call
        args=(); for i in $(seq 12); do args+=(a.b.c.dyn.example.test A); done
        got=$(q +short "${args[@]}")
        expect_eq "$tag: a.b.c A, 3 rounds" "$(seq_of "$work/zone/abc-v4.txt" $K)" "$got"

        # AAAA (length 2), a name with only an AAAA list
        got=$(for i in $(seq 6); do q +short only6.dyn.example.test AAAA; done)
        expect_eq "$tag: only6 AAAA, 3 rounds" "$(seq_of "$work/zone/only6.txt" $K)" "$got"

        # A and AAAA at one name: every question advances both lists once. After 15
        # questions both lists have advanced 15 times: question 16 (A) gets A #15%5=0,
        # question 17 (AAAA) gets AAAA #16%4=0, 18 gets A #17%5=2, 19 gets AAAA #18%4=2.
        got=$(q +short t1.dyn.example.test A t1.dyn.example.test AAAA t1.dyn.example.test A t1.dyn.example.test AAAA)
        expect_eq "$tag: t1 A/AAAA alternating" "192.0.2.1
2001:db8::1
192.0.2.3
2001:db8::3" "$got"
        stop_pid "$PDNS_PID"
    done
done
finish
