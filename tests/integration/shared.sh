#!/bin/bash
# SPDX-License-Identifier: MIT
# --shared-rotation through the real PowerDNS (coprocess mode, distributor-threads=3): the
# copies share one rotation through the counter file in the control directory, so rotation
# is exact whichever copy answers, also for questions in parallel; a changed list starts at
# its first address in every copy, an unchanged one goes on.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
write_zone "$work/zone"
dir=$work/pdns
PIPE_COMMAND="$PDYNDNS --config $work/zone/config.json --control-dir $dir/ctl --shared-rotation" \
    start_pdns "$dir" "$work/zone/config.json" 3 "distributor-threads=3" || { fail "start"; finish; }
check_rotation "shared rotation, 3 copies" "$work/zone"
[ -f "$dir/ctl/rotation.counters" ] && ok || fail "no counter file in the control directory"

# 30 questions for the 5 addresses of t1 A, ten at a time: each address 6 times
got=$(seq 30 | xargs -P 10 -I{} "$DIG" +short +time=2 +tries=1 @127.0.0.1 -p "$PORT" t1.dyn.example.test A |
    sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')
expect_eq "parallel questions: each address 6 times" \
    "192.0.2.1=6 192.0.2.2=6 192.0.2.3=6 192.0.2.4=6 192.0.2.5=6 " "$got"
copies=$(cat /proc/"$PDNS_PID"/task/*/children | wc -w)
[ "$copies" -ge 3 ] && ok || fail "expected at least 3 copies, saw $copies"

# a changed list starts from its first address in every copy; t1 AAAA (unchanged) goes on
# every question for t1 advances both of its lists: 19 in check_rotation, 30 above, 2 here,
# 6 below; so AAAA answers next with #57 % 4 = 1 if it goes on, #0 had it started again
q +short t1.dyn.example.test AAAA t1.dyn.example.test AAAA > /dev/null
printf '192.0.2.%d\n' 11 12 13 > "$work/zone/t1-v4.new"
mv "$work/zone/t1-v4.new" "$work/zone/t1-v4.txt"
for _ in $(seq 50); do
    n=$(grep -c "generation 2 applied" "$dir/pdns.log")
    [ "$n" -ge "$copies" ] && break
    sleep 0.1
done
got=$(for i in $(seq 6); do q +short t1.dyn.example.test A; done | tr '\n' ' ')
expect_eq "a changed list: from its first address, across copies" \
    "192.0.2.11 192.0.2.12 192.0.2.13 192.0.2.11 192.0.2.12 192.0.2.13 " "$got"
got=$(for i in $(seq 4); do q +short t1.dyn.example.test AAAA; done | tr '\n' ' ')
expect_eq "an unchanged list goes on" "2001:db8::2 2001:db8::3 2001:db8::4 2001:db8::1 " "$got"
finish
