#!/bin/bash
# SPDX-License-Identifier: MIT
# Many directories re-armed at once (a release-style deploy that replaces the parent of
# 1,500 list directories) are armed on the loop in slices between questions, and nothing is
# lost meanwhile: edits made in the new directories right after the swap, in place or by
# rename, in the first and in the last directories armed, are all served; questions keep
# their answers throughout. Through the real PowerDNS.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
z=$work/zone
N=1500
mkdir -p "$z/lists"
handlers=
for ((k = 0; k < N; k++)); do
    mkdir "$z/lists/d$k"
    printf '10.%d.%d.1\n' $((k / 250)) $((k % 250)) > "$z/lists/d$k/t.txt"
    handlers+="${handlers:+,}{\"qname\": \"t$k.dyn.example.test\", \"qtype\": \"A\", \"file\": \"lists/d$k/t.txt\"}"
done
cat > "$z/config.json" <<JSON
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60, "loglevel": "debug", "handlers": [$handlers]}
JSON
first() { q +short "$1.dyn.example.test" A | head -1; }
wait_first() { # NAME ADDRESS: until NAME's answer is ADDRESS (3 s at most)
    local i; for ((i = 0; i < 150; i++)); do [ "$(first "$1")" = "$2" ] && return 0; sleep 0.02; done; return 1
}

start_pdns "$work/pdns" "$z/config.json" 1 || { fail "start"; finish; }
log=$work/pdns/pdns.log
# the first plan (1,500 directories, armed after the first answers)
for ((i = 0; i < 250; i++)); do grep -q 'directories armed over' "$log" && break; sleep 0.02; done
expect_match "the first plan was armed in slices" 'watch: 1[0-9]{3} directories armed over [0-9]+ loop iterations' "$(grep -o 'watch: .*armed over.*' "$log" | head -1)"
before=$(grep -c 'directories armed over' "$log")

# the deploy: a copy of the whole tree with one list changed, renamed over the old one
cp -a "$z/lists" "$z/lists.new"
printf '10.250.0.1\n' > "$z/lists.new/d7/t.txt"
mv -T "$z/lists" "$z/lists.old"; mv -T "$z/lists.new" "$z/lists"
# at once, while the new directories are being armed: in place and by rename, early and late
printf '10.250.1.1\n' > "$z/lists/d0/t.txt"
printf '10.250.2.1\n' > "$z/lists/d1499/t.tmp"; mv "$z/lists/d1499/t.tmp" "$z/lists/d1499/t.txt"
printf '10.250.3.1\n' > "$z/lists/d1498/t.txt"
wait_first t7 10.250.0.1 && ok || fail "the list changed in the deployed copy was not served"
wait_first t0 10.250.1.1 && ok || fail "an in-place edit right after the swap (first directory) was not served"
wait_first t1499 10.250.2.1 && ok || fail "a rename right after the swap (last directory) was not served"
wait_first t1498 10.250.3.1 && ok || fail "an in-place edit right after the swap (a late directory) was not served"
for ((i = 0; i < 250; i++)); do [ "$(grep -c 'directories armed over' "$log")" -gt "$before" ] && break; sleep 0.02; done
expect_eq "the new tree's directories were armed in slices too" 1 $(($(grep -c 'directories armed over' "$log") > before))
rm -rf "$z/lists.old"
# later edits are followed by the new watches: one in place, one by rename
printf '10.251.0.1\n' > "$z/lists/d1000/t.txt"
wait_first t1000 10.251.0.1 && ok || fail "a later in-place edit was not served"
printf '10.251.1.1\n' > "$z/lists/d1200/t.tmp"; mv "$z/lists/d1200/t.tmp" "$z/lists/d1200/t.txt"
wait_first t1200 10.251.1.1 && ok || fail "a later rename was not served"
expect_eq "another list unchanged" "10.5.0.1" "$(first t1250)"
expect_eq "nothing logged at error level" "" "$(grep 'pdyndns\[[0-9]*\]: error: ' "$log")"
finish
