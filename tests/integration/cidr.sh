#!/bin/bash
# SPDX-License-Identifier: MIT
# Prefix lines through the real PowerDNS: a /28 answers its 16 addresses in order and wraps; a
# file of plain, prefix and plain lines walks in file order; an AAAA /124 likewise; a /8 is
# one line and 16777216 addresses; a rewrite with a bad prefix (host bits set) is refused with
# its message and the answers go on where they were; a rewrite that spells the same addresses
# otherwise keeps the rotation; other names stay NXDOMAIN.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
z=$work/zone
mkdir -p "$z"
printf '# sixteen\n192.0.2.16/28\n' > "$z/p28.txt"
printf '198.51.100.1\n198.51.100.64/30 # four\n198.51.100.9\n' > "$z/mixed.txt"
printf '2001:db8:c1d::/124\n' > "$z/v6.txt"
printf '10.0.0.0/8\n' > "$z/big.txt"
cat > "$z/config.json" <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60,
 "handlers": [{"qname": "p28.dyn.example.test", "qtype": "A", "file": "p28.txt"},
              {"qname": "mixed.dyn.example.test", "qtype": "A", "file": "mixed.txt"},
              {"qname": "v6.dyn.example.test", "qtype": "AAAA", "file": "v6.txt"},
              {"qname": "big.dyn.example.test", "qtype": "A", "file": "big.txt"}]}
JSON
dir=$work/pdns
start_pdns "$dir" "$z/config.json" 3 || { fail "start"; finish; }
log=$dir/pdns.log

# ask NAME TYPE N: N questions in one dig call, the answers one a line
ask() { local args=() i; for ((i = 0; i < $3; i++)); do args+=("$1" "$2"); done; q +short "${args[@]}"; }
# seq4 FROM TO: 192.0.2.FROM to 192.0.2.TO, one a line
seq4() { local i; for ((i = $1; i <= $2; i++)); do echo "192.0.2.$i"; done; }

# the /28: its 16 addresses in order, network and last included, twice
expect_eq "/28: 32 questions, 16 addresses in order, twice" "$(seq4 16 31; seq4 16 31)" \
    "$(ask p28.dyn.example.test A 32)"

# plain, prefix, plain: file order, wrapping
m="198.51.100.1
198.51.100.64
198.51.100.65
198.51.100.66
198.51.100.67
198.51.100.9"
expect_eq "mixed: 14 questions walk the file in order" "$m
$m
198.51.100.1
198.51.100.64" "$(ask mixed.dyn.example.test A 14)"

# AAAA /124: 16 addresses, then it wraps
want=$(echo "2001:db8:c1d::"; for i in 1 2 3 4 5 6 7 8 9 a b c d e f; do echo "2001:db8:c1d::$i"; done)
expect_eq "AAAA /124: 20 questions" "$want
2001:db8:c1d::
2001:db8:c1d::1
2001:db8:c1d::2
2001:db8:c1d::3" "$(ask v6.dyn.example.test AAAA 20)"

# a /8: one line, 16777216 addresses, from the first
expect_eq "/8: the first three" "10.0.0.0
10.0.0.1
10.0.0.2" "$(ask big.dyn.example.test A 3)"
json=$("$PDYNCTL" --dir "$dir/ctl" --json status | jq -c '[.copies[].result.handlers[]
    | select(.qname == "big.dyn.example.test") | .addresses] | unique')
expect_eq "/8: pdynctl status counts every address" "[16777216]" "$json"

# other names: NXDOMAIN still
expect_eq "other name: NXDOMAIN" NXDOMAIN "$(status_of other.dyn.example.test A)"
expect_eq "a prefix's address is no name: NXDOMAIN" NXDOMAIN "$(status_of 192.0.2.16.dyn.example.test A)"

# a bad prefix (host bits set) is refused, the previous list kept: 5 more answers, the
# rewrite, then the answers go on from the sixth address
expect_eq "/28: 5 more" "$(seq4 16 20)" "$(ask p28.dyn.example.test A 5)"
before=$(wc -l < "$log")
printf '192.0.2.16/27\n' > "$z/p28.txt.new"; mv "$z/p28.txt.new" "$z/p28.txt"
for _ in $(seq 150); do
    tail -n +"$((before + 1))" "$log" | grep -q 'keeping the previous list for p28' && break
    sleep 0.02
done
got=$(tail -n +"$((before + 1))" "$log" | grep -F "$z/p28.txt" | sed 's/^pdyndns\[[0-9]*\]/pdyndns[PID]/' | sort -u)
expect_eq "bad prefix: the daemon's message, the previous list kept" \
    "pdyndns[PID]: error: $z/p28.txt: keeping the previous list for p28.dyn.example.test A (16 addresses)
pdyndns[PID]: error: $z/p28.txt:1: error: \"192.0.2.16/27\" has host bits set: the prefix is \"192.0.2.0/27\"" "$got"
expect_eq "bad prefix: the answers go on" "$(seq4 21 31; seq4 16 20)" "$(ask p28.dyn.example.test A 16)"

# the same 16 addresses spelled otherwise: an equal list, the rotation goes on. mixed.txt
# changes after it, and once mixed serves its new list the rewrite of p28.txt was read.
printf '192.0.2.16/29\n192.0.2.24\n192.0.2.25/32\n192.0.2.26/31\n192.0.2.28/30\n' > "$z/p28.txt.new"
mv "$z/p28.txt.new" "$z/p28.txt"
printf '203.0.113.0/31\n' > "$z/mixed.txt.new"; mv "$z/mixed.txt.new" "$z/mixed.txt"
for _ in $(seq 150); do
    [[ $(q +short mixed.dyn.example.test A) == 203.0.113.* ]] && break
    sleep 0.02
done
expect_match "mixed: the new list is served" '^203\.0\.113\.[01]$' "$(q +short mixed.dyn.example.test A)"
expect_eq "same addresses respelled: the rotation goes on" "$(seq4 21 31; seq4 16 18)" \
    "$(ask p28.dyn.example.test A 14)"
# and a different prefix starts afresh from its first address
before=$(wc -l < "$log")
printf '192.0.2.64/30\n' > "$z/p28.txt.new"; mv "$z/p28.txt.new" "$z/p28.txt"
for _ in $(seq 150); do
    [[ $(q +short p28.dyn.example.test A) == 192.0.2.6[4-7] ]] && break
    sleep 0.02
done
expect_match "a new prefix is served" '^192\.0\.2\.6[4-7]$' "$(q +short p28.dyn.example.test A)"
expect_eq "no error logged for the good rewrites" "" \
    "$(tail -n +"$((before + 1))" "$log" | grep -F "$z/p28.txt" | grep error)"
stop_pid "$PDNS_PID"
finish
