#!/bin/bash
# SPDX-License-Identifier: MIT
# The standard descriptors and the end of a coprocess: started with stdin or stdout closed,
# pdyndns refuses at once with a clear error (it used to take an internal descriptor as its
# stdin and never answer); with stderr closed its log lines never reach the pipe protocol;
# at EOF it exits 0 and removes its control socket, also while a reload is being built.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
. "$top/tests/assert.sh"
. "$top/tests/procs.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
printf '10.0.0.%d\n' 1 2 3 > v4.txt
cat > c.json <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60, "loglevel": "debug",
 "handlers": [{"qname": "t1.dyn.example.test", "qtype": "A", "file": "v4.txt"}]}
JSON

# stdin closed, stdout closed: exit 2 at once with the reason
err=$(timeout 5 "$PDYNDNS" --config c.json --control-dir "$tmp/ctl" 2>&1 >/dev/null <&-; echo "rc=$?")
expect_match "stdin closed: refused" "stdin is closed: as a coprocess pdyndns reads" "$err"
expect_match "stdin closed: exit status 2" "rc=2\$" "$err"
err=$( (timeout 5 "$PDYNDNS" --config c.json --control-dir "$tmp/ctl" 2>&1 >&- </dev/null; echo "rc=$?") | cat)
expect_match "stdout closed: refused" "stdout is closed: as a coprocess pdyndns reads" "$err"
expect_match "stdout closed: exit status 2" "rc=2\$" "$err"

# stderr closed: the banner and the answer come on stdout as they should, and the debug
# lines (the reload at start, the control socket) go nowhere
coproc D { exec "$PDYNDNS" --config c.json --control-dir "$tmp/ctl" 2>&-; }
pid=$D_PID
printf 'HELO\t3\n' >&"${D[1]}"
read -r -t 5 line <&"${D[0]}"
expect_match "stderr closed: the banner" "^OK" "$line"
sleep 0.3 # the first reload and its debug lines
printf 'Q\tt1.dyn.example.test\tIN\tA\t-1\t127.0.0.1\t127.0.0.1\t127.0.0.1/32\n' >&"${D[1]}"
read -r -t 5 line <&"${D[0]}"
expect_match "stderr closed: the answer is an answer" "^DATA	32	1	t1.dyn.example.test	IN	A	0	1	10.0.0.1\$" "$line"
read -r -t 5 line <&"${D[0]}"
expect_eq "stderr closed: then END" "END" "$line"

# EOF: exit 0, the control socket removed
sock=$tmp/ctl/pdyndns.$pid.sock
[ -S "$sock" ] && ok || fail "no control socket $sock"
exec {D[1]}>&-
for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
wait "$pid"
expect_eq "EOF: exit status 0" 0 "$?"
[ -e "$sock" ] && fail "EOF: the control socket is left behind" || ok

# EOF while a reload is being built: a build of many lists (SIGHUP re-reads every file) is
# not waited for; still exit 0, socket removed
mkdir big
for ((i = 0; i < 3000; i++)); do printf '10.1.%d.%d\n' $((i / 250)) $((i % 250 + 1)) > "big/$i.txt"; done
{
    printf '{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",\n'
    printf ' "nameservers": ["ns1.example.test"], "ttl": 60, "handlers": [\n'
    for ((i = 0; i < 3000; i++)); do printf '%s{"qname": "n%d.dyn.example.test", "qtype": "A", "file": "big/%d.txt"}\n' "$([ $i = 0 ] || echo ,)" $i $i; done
    printf ']}\n'
} > big.json
coproc E { exec "$PDYNDNS" --config big.json --control-dir "$tmp/ctl" 2>/dev/null; }
pid=$E_PID
printf 'HELO\t3\n' >&"${E[1]}"
read -r -t 10 line <&"${E[0]}"
expect_match "big: the banner" "^OK" "$line"
kill -HUP "$pid"
exec {E[1]}>&-
for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
wait "$pid"
expect_eq "EOF during a build: exit status 0" 0 "$?"
[ -e "$tmp/ctl/pdyndns.$pid.sock" ] && fail "EOF during a build: the control socket is left behind" || ok
echo "stdio: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
