#!/bin/bash
# SPDX-License-Identifier: MIT
# Lists rewritten 10 times a second while dig asks: no SERVFAIL, no timeout, every answer
# from a version already written, and per name never an older version than one seen.
# Addresses encode their version: 10.V.0.x.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
z=$work/zone
mkdir -p "$z"
WANT=${WANT:-200} # answers to collect while the writer runs (bounded by 60 s)
list() { local i; for i in 1 2 3 4 5; do echo "10.$1.0.$i"; done; }
list 1 > "$z/a.txt"; list 1 > "$z/b.txt"; echo 1 > "$work/written"
cat > "$z/config.json" <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60,
 "handlers": [{"qname": "a.dyn.example.test", "qtype": "A", "file": "a.txt"},
              {"qname": "b.dyn.example.test", "qtype": "A", "file": "b.txt"}]}
JSON
start_pdns "$work/pdns" "$z/config.json" 3 || { fail "start"; finish; }

# the writer: version v of both files every 100 ms, by rename and in place by turns, until
# the reader is done; it records each version once both files hold it (a reader may see
# v+1 before that)
(
    for v in $(seq 2 700); do
        [ -e "$work/done" ] && break
        if [ $((v % 2)) = 0 ]; then
            list "$v" > "$z/a.txt.tmp"; mv "$z/a.txt.tmp" "$z/a.txt"
            list "$v" > "$z/b.txt"
        else
            list "$v" > "$z/a.txt"
            list "$v" > "$z/b.txt.tmp"; mv "$z/b.txt.tmp" "$z/b.txt"
        fi
        echo "$v" > "$work/written.tmp"; mv "$work/written.tmp" "$work/written"
        sleep 0.1
    done
) &
writer=$!

answers=0 servfail=0 timeouts=0 bad=0 back=0 last_a=0 last_b=0
end=$(( $(date +%s) + 60 ))
while [ "$(date +%s)" -lt "$end" ] && [ "$answers" -lt "$WANT" ]; do
    out=$(q +noall +answer +comments a.dyn.example.test A b.dyn.example.test A 2>&1)
    [[ $out == *'status: SERVFAIL'* ]] && servfail=$((servfail + 1))
    [[ $out == *'timed out'* ]] && timeouts=$((timeouts + 1))
    read -r written < "$work/written"
    while read -r name _ _ type addr; do
        [ "$type" = A ] || continue
        answers=$((answers + 1))
        ver=${addr#10.}; ver=${ver%%.*}
        [ "$ver" -le $((written + 1)) ] || { bad=$((bad + 1)); echo "  $name $addr: version $ver never written (last $written)"; }
        case $name in
        a.*) [ "$ver" -ge "$last_a" ] || { back=$((back + 1)); echo "  a: $ver after $last_a"; }; last_a=$ver ;;
        b.*) [ "$ver" -ge "$last_b" ] || { back=$((back + 1)); echo "  b: $ver after $last_b"; }; last_b=$ver ;;
        esac
    done <<< "$out"
done
touch "$work/done"
wait "$writer"
versions=$(cat "$work/written")
echo "  $answers answers while the lists went through $versions versions"
expect_eq "no SERVFAIL" 0 "$servfail"
expect_eq "no timeout" 0 "$timeouts"
expect_eq "every answer from a version written" 0 "$bad"
expect_eq "never an older version after a newer one" 0 "$back"
[ "$answers" -ge "$WANT" ] && ok || fail "too few answers in 60 s ($answers)"
[ "$versions" -ge 10 ] && ok || fail "the lists changed only $versions times while asked"
finish
