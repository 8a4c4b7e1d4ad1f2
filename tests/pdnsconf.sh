#!/bin/bash
# SPDX-License-Identifier: MIT
# pdyndns --check --pdns-config: the shipped data/pdns.conf against data/config.json (only the
# config path in pipe-command differs), the same pair made consistent (exit 0), the shipped
# cache lines with a per-question config (exit 1, the two lines named), a pdns.d include-dir
# that turns them off, and the hint for a file left in the working directory.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
. "$(dirname "$0")/assert.sh" # passes, fails, ok, fail, expect_eq, expect_match

data=$top/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
cp "$data"/config.json "$data"/*.txt .

# the files as shipped: the caches fit "advance": "per-lookup"; pipe-command names
# /etc/pdyndns/config.json, which is not the config checked
out=$("$PDYNDNS" --check --config "$data/config.json" --pdns-config "$data/pdns.conf" 2>&1); rc=$?
expect_eq "shipped pair: exit 1" 1 "$rc"
expect_eq "shipped pair: one error, about the config pipe-command names" \
    "$data/pdns.conf:6: error: pipe-command names the config /etc/pdyndns/config.json" \
    "$(grep -o '^.*: error: pipe-command names the config [^ ]*' <<<"$out")"
expect_eq "shipped pair: no other error" 1 "$(grep -c ': error: ' <<<"$out")"
expect_match "shipped pair: says which setting to write" \
    "set --config $data/config.json in pipe-command" "$out"

# the same settings, running this pdyndns with this config: consistent
sed "s|^pipe-command=.*|pipe-command=$PDYNDNS --config $tmp/config.json|" "$data/pdns.conf" > pdns.conf
out=$("$PDYNDNS" --check --config config.json --pdns-config pdns.conf 2>&1); rc=$?
expect_eq "consistent pair: exit 0" 0 "$rc"
expect_eq "consistent pair: says so" \
    "config.json: ok: zone dyn.example.test, 3 handlers, 9 addresses
pdns.conf: ok: consistent with config.json" "$out"

# the Python config (no "advance": per-question) with the shipped cache lines: the rotation
# would freeze; both cache lines are named, nothing else
sed '/"advance"/d' config.json > question.json
sed "s|^pipe-command=.*|pipe-command=$PDYNDNS --config $tmp/question.json|" "$data/pdns.conf" > pdns-q.conf
out=$("$PDYNDNS" --check --config question.json --pdns-config pdns-q.conf 2>&1); rc=$?
expect_eq "per-question with caches: exit 1" 1 "$rc"
expect_eq "per-question with caches: the two cache lines" \
    "pdns-q.conf:12: error: query-cache-ttl=20 with \"advance\": \"per-question\"
pdns-q.conf:13: error: negquery-cache-ttl=10 with \"advance\": \"per-question\"" \
    "$(grep ': error: ' <<<"$out" | sed 's/ (question.json).*//')"
expect_match "per-question with caches: a count" 'pdns-q.conf: 2 problems found' "$out"

# include-dir: a pdns.d file read after pdns.conf turns the caches off
mkdir pdns.d
printf 'query-cache-ttl=0\nnegquery-cache-ttl=0\n' > pdns.d/caches.conf
printf 'query-cache-ttl=60\n' > pdns.d/ignored.conf.dpkg-old
{ cat pdns-q.conf; echo "include-dir=$tmp/pdns.d"; } > pdns-inc.conf
out=$("$PDYNDNS" --check --config question.json --pdns-config pdns-inc.conf 2>&1); rc=$?
expect_eq "include-dir overrides the main file: exit 0" "0 pdns-inc.conf: ok: consistent with question.json" \
    "$rc $(tail -n1 <<<"$out")"

# the same files as pdns_server reads them: what it prints as its settings is what the check
# went by (include order a.conf then B.conf, "+=", a continued line, comments)
if command -v pdns_server >/dev/null; then
    mkdir real real/pdns.d
    printf 'launch=\ninclude-dir=%s/real/pdns.d\nzone-cache-refresh-interval=0 # mandatory\npipe-abi-version=5\n' "$tmp" > real/pdns.conf
    printf 'pipe-command=%s --config %s/question.json\nnegquery-cache-ttl=1\\\n0\n' "$PDYNDNS" "$tmp" >> real/pdns.conf
    printf 'cache-ttl=30\nquery-cache-ttl=30\n' > real/pdns.d/a.conf
    printf 'cache-ttl=0\nquery-cache-ttl=0 # off\nlaunch+=pipe\n' > real/pdns.d/B.conf
    got=$(pdns_server --config-dir="$tmp/real" --config=current 2>&1 |
        grep -E '^(launch|cache-ttl|query-cache-ttl|negquery-cache-ttl|zone-cache-refresh-interval)=' | sort)
    expect_eq "pdns_server reads the files so" "cache-ttl=0
launch=pipe
negquery-cache-ttl=10
query-cache-ttl=0
zone-cache-refresh-interval=0" "$got"
    out=$("$PDYNDNS" --check --config question.json --pdns-config real/pdns.conf 2>&1); rc=$?
    expect_eq "and so does the check: negquery-cache-ttl=10 only" \
        "1 real/pdns.conf:6: error: negquery-cache-ttl=10 with \"advance\": \"per-question\"" \
        "$rc $(grep ': error: ' <<<"$out" | sed 's/ (question.json).*//')"
    mv real/pdns.d/B.conf real/pdns.d/0.conf # now read first: a.conf's caches win
    got=$(pdns_server --config-dir="$tmp/real" --config=current 2>&1 | grep -E '^(cache-ttl|query-cache-ttl)=' | sort)
    expect_eq "pdns_server: a.conf last" "cache-ttl=30
query-cache-ttl=30" "$got"
    out=$("$PDYNDNS" --check --config question.json --pdns-config real/pdns.conf 2>&1)
    expect_eq "the check: a.conf's lines named" "$tmp/real/pdns.d/a.conf:1: error: cache-ttl=30
$tmp/real/pdns.d/a.conf:2: error: query-cache-ttl=30" \
        "$(grep ': error: .*cache-ttl=30' <<<"$out" | sed 's/30[: ].*/30/')"
else
    fail "pdns_server is not installed: the comparison with PowerDNS's own reading was not run"
fi

# a zone-cache line missing, a packet cache, a regex that shuts out the zone: each named
grep -v -e zone-cache -e '^cache-ttl' pdns.conf > pdns-bad.conf
echo 'pipe-regex=^www\.' >> pdns-bad.conf
out=$("$PDYNDNS" --check --config config.json --pdns-config pdns-bad.conf 2>&1); rc=$?
expect_eq "bad settings: exit 1" 1 "$rc"
expect_match "missing zone-cache-refresh-interval" \
    'pdns-bad.conf: error: zone-cache-refresh-interval is not set \(default 300\).*add zone-cache-refresh-interval=0' "$out"
expect_match "packet cache on by default" 'pdns-bad.conf: error: cache-ttl is not set \(default 20\).*add cache-ttl=0' "$out"
expect_match "regex shuts out the apex" 'pdns-bad.conf:12: error: pipe-regex=\^www\\. shuts out dyn.example.test \(a zone apex' "$out"

# a config that cannot be read: the settings that need none are still checked
out=$("$PDYNDNS" --check --config nothing.json --pdns-config pdns-bad.conf 2>&1); rc=$?
expect_eq "no config: exit 1" 1 "$rc"
expect_match "no config: zone-cache-refresh-interval still named" 'pdns-bad.conf: error: zone-cache-refresh-interval is not set' "$out"
out=$("$PDYNDNS" --check --config nothing.json --pdns-config pdns.conf 2>/dev/null)
expect_eq "no config: what was checked" "pdns.conf: ok as far as it can be checked without nothing.json" "$out"

# usage: --pdns-config goes with --check; a PowerDNS config that is not there
"$PDYNDNS" --config config.json --pdns-config pdns.conf >/dev/null 2>&1
expect_eq "--pdns-config without --check: exit 2" 2 $?
out=$("$PDYNDNS" --check --config config.json --pdns-config nothing.conf 2>&1); rc=$?
expect_eq "missing PowerDNS config: exit 1" 1 "$rc"
expect_match "missing PowerDNS config: said" 'nothing.conf: error: cannot read the PowerDNS config: No such file or directory' "$out"
out=$("$PDYNDNS" --help); expect_match "--help lists --pdns-config" '--pdns-config PDNSCONF' "$out"

# migration: the Python pdyndns read "www-v4.txt" from its working directory; pdyndns reads
# it beside the config
mkdir etc
sed 's/"advance": "per-lookup",//' config.json > etc/config.json
out=$("$PDYNDNS" --check --config etc/config.json 2>&1); rc=$?
expect_eq "file in the working directory only: exit 1" 1 "$rc"
expect_match "file in the working directory only: said where it is" \
    "etc/config.json: warning: \"www-v4.txt\" \(www.dyn.example.test A\) is not in the config's directory $tmp/etc but is in the working directory $tmp" "$out"

# "empty_non_terminals" against the PowerDNS installed here (its Debian package): PowerDNS
# before 5.1 refuses the ENT lines, so the check warns (the config stays valid: exit 0)
sed 's|^{|{"empty_non_terminals": true,|' config.json > ent.json
sed "s|^pipe-command=.*|pipe-command=$PDYNDNS --config $tmp/ent.json|" "$data/pdns.conf" > pdns-ent.conf
out=$("$PDYNDNS" --check --config ent.json --pdns-config pdns-ent.conf 2>&1); rc=$?
installed=$(dpkg-query -W -f '${Status} ${Version}' pdns-server 2>/dev/null | sed -n 's/^install ok installed \([0-9:]*:\)\{0,1\}\([^-~+]*\).*/\2/p')
if [ -z "$installed" ]; then
    expect_match "empty_non_terminals, no pdns-server package: says it cannot tell" \
        "ent.json: warning: empty_non_terminals is true, which needs PowerDNS 5.1 or later, and which PowerDNS runs cannot be told here" "$out"
elif printf '%s\n' 5.1 "$installed" | sort -V -C; then
    expect_eq "empty_non_terminals with PowerDNS $installed: no warning" 0 "$(grep -c warning <<<"$out")"
else
    expect_match "empty_non_terminals with PowerDNS $installed: warned" \
        "ent.json: warning: empty_non_terminals is true, but PowerDNS here is $installed \(the package pdns-server\), which refuses the ENT records it needs \(5.1 or later\)" "$out"
fi
expect_eq "empty_non_terminals: a warning, not an error" 0 "$rc"

echo "pdnsconf: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
