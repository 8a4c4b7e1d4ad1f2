#!/bin/bash
# SPDX-License-Identifier: MIT
# Bad input on the pipe, through the pdyndns binary: every malformed line gets exactly one
# FAIL, a CRLF line is answered, the good question after each bad line is answered, lines
# of 1 MiB do not make memory grow with them, and a last line without a newline is still
# answered at EOF.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
. "$(dirname "$0")/assert.sh" # passes, fails, ok, fail, expect_eq, expect_match
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

printf '10.0.0.1\n' > v4.txt
cat > c.json <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60, "loglevel": "critical",
 "handlers": [{"qname": "t1.dyn.example.test", "qtype": "A", "file": "v4.txt"}]}
JSON
good=$'Q\tt1.dyn.example.test\tIN\tA\t1\t127.0.0.1'
answer=$'DATA\tt1.dyn.example.test\tIN\tA\t0\t1\t10.0.0.1\nEND'
long=$(head -c 63 /dev/zero | tr '\0' a)
bad=(
    "$(head -c $((1 << 20)) /dev/zero | tr '\0' x)"               # a line of 1 MiB
    $'Q\tt1.dyn.example.test\tIN\tA\t1'                              # a field short for ABI 1
    $'Q\tt1.dyn.example.test\tIN\tA\t1\t127.0.0.1\textra'            # a field too many
    $'Q\tt1.dyn.example.test\tIN\tA\tone\t127.0.0.1'                 # a non-numeric id
    $'Q\tt1.dyn.example.test\tIN\tA\t99999999999\t127.0.0.1'         # an id out of range
    $'Q\tt1.dyn.example.test\tCH\tA\t1\t127.0.0.1'                   # not IN
    $'Q\tt1.dyn.example.test\t\tA\t1\t127.0.0.1'                     # an empty field
    $'Q\t'"$long"a$'.dyn.example.test\tIN\tA\t1\t127.0.0.1'          # a label of 64
    $'Q\t'"$long.$long.$long.$long"$'.dyn.example.test\tIN\tA\t1\t127.0.0.1' # a name over 255
    $'Q\ta\\999.dyn.example.test\tIN\tA\t1\t127.0.0.1'               # an escape over 255
    $'Q\ta\\\tIN\tA\t1\t127.0.0.1'                                   # a trailing backslash
    $'Q\ta..dyn.example.test\tIN\tA\t1\t127.0.0.1'                   # an empty label
    $'FROB\tt1.dyn.example.test'                                     # an unknown command
    $'CMD\tstatus'                                                   # CMD below ABI 5
    $'AXFR'                                                          # AXFR without a zone id
    $'HELO\t9'                                                       # an ABI that does not exist
    $'HELO'                                                          # HELO without ABI
    'END'                                                            # our own words back
    ''                                                               # an empty line
    $'\t'                                                            # only a tab
)
{
    printf 'HELO\t1\n'
    for b in "${bad[@]}"; do printf '%s\n%s\n' "$b" "$good"; done
    printf 'Q\tt1.dyn.example.test\tI\0N\tA\t1\t127.0.0.1\n%s\n' "$good"    # a NUL byte
    printf '%s\r\n' "$good"                                                   # CRLF: answered
    for i in $(seq 10); do head -c $((1 << 20)) /dev/zero | tr '\0' y; echo; done  # 10 more MiB lines
    printf '%s' "$good"                                                       # no newline at EOF
} > in.txt

/usr/bin/time -f '%M' -o rss.txt "$PDYNDNS" --config c.json --control-dir "$tmp/ctl" < in.txt > out.txt 2> err.txt
rc=$?
[ $rc -eq 0 ] && ok || fail "exit status $rc at EOF"
{
    echo "OK"
    for b in "${bad[@]}"; do printf 'FAIL\n%s\n' "$answer"; done
    printf 'FAIL\n%s\n%s\n' "$answer" "$answer"
    for i in $(seq 10); do echo FAIL; done
    printf '%s\n' "$answer"
} > want.txt
sed '1s/^OK\t.*/OK/' out.txt > got.txt
if cmp -s want.txt got.txt; then ok; else
    fail "answers differ from the expected sequence:"; diff want.txt got.txt | head -20
fi
# memory: against the same run with only the good question (sanitizer builds start larger)
printf 'HELO\t1\n%s\n' "$good" > small.txt
/usr/bin/time -f '%M' -o rss0.txt "$PDYNDNS" --config c.json --control-dir "$tmp/ctl" < small.txt > /dev/null 2>&1
rss=$(cat rss.txt) rss0=$(cat rss0.txt)
[ "$rss" -lt $((rss0 + 4096)) ] && ok || fail "peak RSS ${rss} KiB with 11 lines of 1 MiB, ${rss0} KiB without (want < 4 MiB more)"
echo "badinput: $passes passed, $fails failed (peak RSS ${rss} KiB, ${rss0} KiB for one question)"
[ "$fails" -eq 0 ]
