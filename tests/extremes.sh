#!/bin/bash
# SPDX-License-Identifier: MIT
# Extreme address files and configs replaced under a running pdyndns (driven over its pipe,
# as PowerDNS does). A valid list of 10,000,000 addresses is served. Each bad one (10 M
# lines with a bad last line, a line of 10 MiB alone or in the middle, binary garbage, NUL
# bytes, a FIFO with and without a writer, /dev/zero, /dev/null, a directory, a symlink
# loop, a dangling symlink) and each bad config (nesting 100,000 deep, strings of 10 MiB,
# over 16 MiB, duplicate keys, wrong types, unknown keys) is refused with its exact
# messages (golden), the log says what was kept, the previous answers stay, and nothing
# hangs: every question is answered. `pdyndns --check` says the same of the bad configs.
# Peak RSS stays within what the lists legitimately hold. Timing goals (the stall while
# these load) live in tests/bench/reloadbench, not here.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
PDYNCTL=${PDYNCTL:-$top/ctl/pdynctl}
. "$(dirname "$0")/procs.sh" # stop_pid
. "$(dirname "$0")/assert.sh" # passes, fails, ok, fail, expect_eq, expect_match
tmp=$(mktemp -d)
dpid=
cleanup() {
    [ -z "$dpid" ] || stop_pid "$dpid"
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1

W=$tmp/w.txt C=$tmp/c.json log=$tmp/err.log
list() { printf '10.%d.0.1\n10.%d.0.2\n10.%d.0.3\n' "$1" "$1" "$1"; }
put() { mv -T "$1" "$W"; } # rename over the watched name
mkdir sub
list 1 > "$W"
printf '10.200.0.1\n' > sub/z.txt
cat > good.json <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60,
 "handlers": [{"qname": "w.dyn.example.test", "qtype": "A", "file": "w.txt"},
              {"qname": "z.dyn.example.test", "qtype": "A", "file": "sub/z.txt"}]}
JSON
cp good.json "$C"

coproc D { exec "$PDYNDNS" --config "$C" --control-dir "$tmp/ctl" 2>>"$log"; }
dpid=$D_PID
exec {to}>&"${D[1]}" {from}<&"${D[0]}"
printf 'HELO\t3\n' >&$to
read -r -t 10 banner <&$from || { fail "no banner"; exit 1; }

# ask [NAME]: one question for w's (or NAME's) A records, as PowerDNS asks it with caches off
# (the apex SOA lookup, then the lookup); $got = the addresses answered. Each question moves
# the rotation one step: a list that just changed answers its first address, a list kept goes
# on where it was (served: what the last of the $asked questions since w's list last changed
# got, from the 3-address list of version $v or the 10 M list).
asked=0
served() { local i=$((asked - 1)); if [ "$kept" = 3 ]; then echo "10.$v.0.$((i % 3 + 1))"; else echo "10.100.0.$i"; fi; }
ask() { # [NAME]: w by default
    local l
    got=
    [ "${1:-w}" = w ] && asked=$((asked + 1))
    printf 'Q\tdyn.example.test\tIN\tSOA\t-1\t0.0.0.0\t0.0.0.0\t0.0.0.0/0\n' >&$to
    while read -r -t 20 l <&$from && [ "$l" != END ]; do :; done
    printf 'Q\t%s.dyn.example.test\tIN\tA\t-1\t127.0.0.1\t0.0.0.0\t127.0.0.1\n' "${1:-w}" >&$to
    while :; do
        if ! read -r -t 20 l <&$from; then
            got=TIMEOUT
            fail "no answer within 20 s: pdyndns hangs"
            exit 1
        fi
        [ "$l" = END ] && break
        got+="${got:+ }${l##*$'\t'}"
    done
}
lines() { wc -l < "$log"; }
new_lines() { tail -n +"$(($1 + 1))" "$log" | sed "s/^pdyndns\[$dpid\]: //"; }
wait_log() { # FROM REGEX: until a line after line FROM matches (30 s at most)
    local end=$((SECONDS + 30))
    while [ $SECONDS -lt $end ]; do
        new_lines "$1" | grep -q -- "$2" && return 0
        sleep 0.02
    done
    return 1
}
vm_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$dpid/status"; }
# ASan keeps freed memory in quarantine and copies on realloc: its RSS says nothing here
grep -q __asan_init "$PDYNDNS" && sanitized=1 || sanitized=
within() { # NAME KIB LIMIT-KIB
    if [ -n "$sanitized" ] || [ "$2" -le "$3" ]; then ok; else fail "$1: ${2} KiB, want at most ${3} KiB"; fi
}

ask; expect_eq "start: w's first address" 10.1.0.1 "$got"
gen=1 v=1 kept=3 asked=1
rss0=$(vm_kb VmHWM)

applied() { # N-ADDRESSES CHANGED KEPT: the line of generation $gen
    echo "info: generation $gen applied: zone dyn.example.test, 2 handlers, $(($1 + 1)) addresses; $2 lists new or changed, $3 kept after an error, 0 serving nothing"
}

# refused NAME ERRORS: the file now at $W must be refused with exactly ERRORS (lines, then
# what was kept), and w must answer as before.
refused() {
    local want
    gen=$((gen + 1))
    want="$2
error: $W: keeping the previous list for w.dyn.example.test A ($kept addresses)
$(applied "$kept" 0 1)"
    wait_log "$before" "generation $gen applied" || fail "$1: no reload within 30 s"
    expect_eq "$1: messages" "$want" "$(new_lines "$before" | grep -v '^warning: ')"
    ask; expect_eq "$1: w still answers from the previous list" "$(served)" "$got"
}
# restore: a good list (a new version) is served again, nothing is stuck
restore() {
    local before
    before=$(lines)
    v=$((v + 1)) gen=$((gen + 1))
    list "$v" > "$W.new"
    if [ -d "$W" ] && [ ! -L "$W" ]; then # a directory cannot be renamed over
        /usr/bin/python3 -c 'import os, sys; os.rmdir(sys.argv[2]); os.rename(sys.argv[1], sys.argv[2])' "$W.new" "$W"
    else
        put "$W.new"
    fi
    wait_log "$before" "generation $gen applied" || fail "restore to version $v: no reload within 30 s"
    expect_eq "restore to version $v: messages" "$(applied 3 1 0)" "$(new_lines "$before")"
    ask; expect_eq "restore to version $v: served" "10.$v.0.1" "$got"
    kept=3 asked=1
}

# --- 10,000,000 lines ----------------------------------------------------------------------
awk 'BEGIN {for (i = 0; i < 10000000; i++) printf "10.%d.%d.%d\n", 100 + int(i / 65536), int(i / 256) % 256, i % 256}' > "$W.new"
cp "$W.new" big-bad.txt
echo "10.100.0.300" >> big-bad.txt
before=$(lines)
put "$W.new"
gen=$((gen + 1))
wait_log "$before" "generation $gen applied" || fail "10 M valid lines: no reload within 30 s"
expect_eq "10 M valid lines: accepted" "$(applied 10000000 1 0)" "$(new_lines "$before")"
ask; expect_eq "10 M valid lines: its first address is served" 10.100.0.0 "$got"
kept=10000000 asked=1

before=$(lines)
mv big-bad.txt "$W"
refused "10 M lines, the last one bad" "error: $W:10000001: error: \"10.100.0.300\" is not an IPv4 address"
# memory: the 10 M list (40 MB) stays live while the bad 10 M file is parsed (40 MB more)
rss1=$(vm_kb VmHWM)
within "peak RSS across the 10 M lists (${rss0} KiB at start, 96 MiB more allowed)" "$rss1" $((rss0 + 96 * 1024))
restore
# from here on, the peak counts again from what is held now (5: reset VmHWM)
sleep 0.2 # the retired 10 M list is freed on a thread of its own
echo 5 > "/proc/$dpid/clear_refs"
rss2=$(vm_kb VmHWM)

# --- a file far over the size cap -----------------------------------------------------------
# 64 GiB, sparse: refused by its size before a byte is read, so that z's edit right after it
# is applied at once (read, it took minutes, and held back every other list meanwhile)
truncate -s 64G "$W.new"
printf '10.201.0.1\n' > sub/z.txt.new
before=$(lines) t0=$(date +%s%N)
put "$W.new"
mv sub/z.txt.new sub/z.txt
wait_log "$before" "1 lists new or changed, 1 kept after an error" || fail "64 GiB: z's edit not applied within 30 s"
t_huge=$((($(date +%s%N) - t0) / 1000000))
gen=$((gen + $(new_lines "$before" | grep -c ' applied: ')))
expect_eq "64 GiB file: refused by its size, what was kept" "error: $W: error: larger than 268435456 bytes
error: $W: keeping the previous list for w.dyn.example.test A ($kept addresses)" \
    "$(new_lines "$before" | grep '^error: ')"
ask; expect_eq "64 GiB file: w still answers from the previous list" "$(served)" "$got"
ask z; expect_eq "64 GiB file: z's edit beside it is served" 10.201.0.1 "$got"
restore

# --- long lines, garbage, NUL bytes ----------------------------------------------------------
head -c $((10 << 20)) /dev/zero | tr '\0' 1 > "$W.new"
before=$(lines); put "$W.new"
refused "one line of 10 MiB" "error: $W:1: error: line longer than 1024 bytes"
restore

{ printf '10.9.0.1\n10.9.0.2\n'; head -c $((10 << 20)) /dev/zero | tr '\0' 2; printf '\n10.9.0.3\n10.9.0.4\n10.9.0.300\n'; } > "$W.new"
before=$(lines); put "$W.new"
refused "a 10 MiB line in the middle" "error: $W:3: error: line longer than 1024 bytes
error: $W:6: error: \"10.9.0.300\" is not an IPv4 address"
restore

head -c $((1 << 20)) /dev/urandom > "$W.new"
before=$(lines); put "$W.new"
gen=$((gen + 1))
wait_log "$before" "generation $gen applied" || fail "1 MiB of random bytes: no reload within 30 s"
got=$(new_lines "$before")
expect_eq "1 MiB of random bytes: 20 lines shown, a count, what was kept" \
    "20 shown, $W: error: N bad lines in all (the first 20 are shown), $W: keeping the previous list for w.dyn.example.test A (3 addresses)" \
    "$(grep -c "^error: $W:[0-9]*: error: " <<<"$got") shown, $(sed -n "s|^error: \($W: error: \)[0-9]* \(bad lines in all .*\)|\1N \2|p" <<<"$got"), $(sed -n "s|^error: \($W: keeping .*\)|\1|p" <<<"$got")"
# the log stays printable text: what a bad line holds is shown escaped
expect_eq "1 MiB of random bytes: every logged byte printable" 0 "$(LC_ALL=C grep -c '[^ -~]' <<<"$got")"
ask; expect_eq "1 MiB of random bytes: w still answers from the previous list" "$(served)" "$got"
restore

printf '10.9.0.1\n\033[31mred\177\377"\\\n' > "$W.new"
before=$(lines); put "$W.new"
refused "binary bytes in a token" "error: $W:2: error: \"\\x1b[31mred\\x7f\\xff\\\"\\\\\" is not an IPv4 address"
restore

printf '10.9.0.1\n10.9.\0.2\n\0\0\0\n' > "$W.new"
before=$(lines); put "$W.new"
refused "NUL bytes" "error: $W:2: error: line contains a NUL byte
error: $W:3: error: line contains a NUL byte"
restore

# --- not a regular file: nothing blocks on it -------------------------------------------------
mkfifo "$W.new"
before=$(lines); put "$W.new"
refused "a FIFO, no writer" "error: $W: error: not a regular file (a FIFO)"
restore

mkfifo "$W.new"
exec {writer}<>"$W.new" # a writer that holds it open and never writes
before=$(lines); put "$W.new"
refused "a FIFO held open by a writer" "error: $W: error: not a regular file (a FIFO)"
exec {writer}>&-
restore

ln -s /dev/zero "$W.new"
before=$(lines); put "$W.new"
refused "a symlink to /dev/zero" "error: $W: error: not a regular file (a character device)"
restore

ln -s /dev/null "$W.new"
before=$(lines); put "$W.new"
refused "a symlink to /dev/null" "error: $W: error: not a regular file (a character device)"
restore

before=$(lines)
/usr/bin/python3 -c 'import os, sys; os.unlink(sys.argv[1]); os.mkdir(sys.argv[1])' "$W"
refused "a directory" "error: $W: error: not a regular file (a directory)"
restore

# a symlink loop: refused, the watcher says once (not at every 2 s poll) that it cannot
# follow this path, and still watches the other handler's directory
ln -s "$tmp/loop-b" "$W.new"
ln -s "$W" loop-b
before=$(lines)
/usr/bin/python3 -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "$W.new" "$W" # mv sees one file
refused "a symlink loop" "error: $W: error: cannot open: Too many levels of symbolic links"
wait_log "$before" "warning: watch" || fail "a symlink loop: no watch warning"
sleep 4.5 # two polls
expect_eq "a symlink loop: the watch warning, once" \
    "warning: watch: cannot follow $W (Too many levels of symbolic links); the 2 s poll covers it" \
    "$(new_lines "$before" | grep '^warning: ')"
ino=$(printf '%x' "$(stat -c %i sub)")
ifd=$(for f in /proc/$dpid/fd/*; do [ "$(readlink "$f")" = anon_inode:inotify ] && basename "$f"; done | head -1)
if grep -q " ino:$ino " "/proc/$dpid/fdinfo/$ifd"; then ok; else
    fail "a symlink loop: the other handler's directory sub/ is no longer watched"
fi
restore
rm loop-b

ln -s "$tmp/nowhere" "$W.new"
before=$(lines); put "$W.new"
refused "a symlink to a missing file" "error: $W: error: cannot open: No such file or directory"
restore

# memory: no line of 10 MiB, no garbage was held whole
rss3=$(vm_kb VmHWM)
within "peak RSS across the long lines, garbage and special files (${rss2} KiB before them, 8 MiB more allowed)" \
    "$rss3" $((rss2 + 8 * 1024))

# --- configs --------------------------------------------------------------------------------
# bad_config NAME FILE ERRORS: FILE replaces the config; the log has exactly ERRORS, then
# what was kept; answers stay; `pdyndns --check` prints ERRORS and a count, exit 1.
bad_config() {
    local before n out rc
    before=$(lines)
    cp "$2" "$C.new"; mv "$C.new" "$C"
    wait_log "$before" "config not applied" || fail "$1: no reload within 30 s"
    expect_eq "$1: messages" "$(sed 's/^/error: /' <<<"$3")
error: $C: config not applied; keeping generation $gen (2 handlers, $((kept + 1)) addresses)" "$(new_lines "$before")"
    ask; expect_eq "$1: w still answers as before" "$(served)" "$got"
    n=$(wc -l <<<"$3")
    out=$("$PDYNDNS" --check --config "$C" 2>&1); rc=$?
    expect_eq "$1: --check exit status" 1 "$rc"
    expect_eq "$1: --check messages" "$3
$C: $n problem$([ "$n" = 1 ] || echo s) found" "$out"
}
awk 'BEGIN {for (i = 0; i < 100000; i++) printf "["; for (i = 0; i < 100000; i++) printf "]"; print ""}' > deep.json
bad_config "nesting 100,000 deep" deep.json "$C:1:65: error: nested deeper than 64 levels"

# with_long KEY-PATH: good.json with a string of 10 MiB at KEY-PATH ("" for a key of 10 MiB)
with_long() {
    /usr/bin/python3 - "$1" <<'PY'
import json, sys
c, x, path = json.load(open("good.json")), "x" * (10 << 20), sys.argv[1].split(".")
if path == [""]:
    c[x] = 1
else:
    o = c
    for k in path[:-1]:
        o = o[int(k)] if k.isdigit() else o[k]
    o[path[-1]] = x
print(json.dumps(c))
PY
}
xs() { printf "%${1}s" "" | tr ' ' x; }
with_long soa > soa.json
bad_config "a 10 MiB soa" soa.json "$C: error: /soa: \"$(xs 120)...\" is not \"MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM\" (host names and decimal numbers, single spaces)"
with_long domain > domain.json
bad_config "a 10 MiB domain" domain.json "$C: error: /domain: longer than 253 characters"
with_long handlers.0.qtype > qtype.json
bad_config "a 10 MiB qtype" qtype.json "$C: error: /handlers/0/qtype: expected \"A\" or \"AAAA\", got \"$(xs 40)...\""
with_long "" > key.json
bad_config "a 10 MiB unknown key" key.json "$C: error: /$(xs 507)...: unknown key"
{ printf '{"pad": "'; head -c $((16 << 20)) /dev/zero | tr '\0' x; printf '"}\n'; } > huge.json
bad_config "a config over 16 MiB" huge.json "$C: error: larger than 16777216 bytes"
rm -f soa.json domain.json qtype.json key.json huge.json

sed 's/"ttl": 60,/"ttl": 60,\n "domain": "other.test",/' good.json > dup.json
bad_config "duplicate key" dup.json "$C:3:2: error: duplicate key \"domain\""
# the first duplicate in the text is the one reported, not the first in sorted order
sed 's/"ttl": 60,/"ttl": 60, "ttl": 61,\n "domain": "other.test",/' good.json > dup2.json
bad_config "two duplicate keys" dup2.json "$C:2:50: error: duplicate key \"ttl\""

i=0
while IFS='|' read -r key pointer value msg; do
    i=$((i + 1))
    jq ".$key = $value" good.json > "type$i.json"
    bad_config "wrong type: $pointer" "type$i.json" "$C: error: $pointer: $msg"
done <<'EOF'
domain|/domain|5|expected a string, got an integer
soa|/soa|["x"]|expected a string, got an array
nameservers|/nameservers|"ns1.example.test"|expected an array, got a string
ttl|/ttl|"60"|expected an integer, got a string
loglevel|/loglevel|3|expected a string, got an integer
advance|/advance|null|expected a string, got null
handlers|/handlers|{}|expected an array, got an object
control_dir|/control_dir|[]|expected a string, got an array
control_group|/control_group|{}|expected a string, got an object
handlers[0]|/handlers/0|"w.txt"|expected an object, got a string
handlers[0].qname|/handlers/0/qname|true|expected a string, got a boolean
handlers[0].qtype|/handlers/0/qtype|28|expected a string, got an integer
handlers[0].file|/handlers/0/file|1.5|expected a string, got a number
EOF
jq '.colour = "blue" | .handlers[1].weight = 3' good.json > unknown.json
bad_config "unknown keys" unknown.json "$C: error: /colour: unknown key
$C: error: /handlers/1/weight: unknown key"
echo '["not", "an", "object"]' > array.json
bad_config "not an object" array.json "$C: error: /: expected an object, got an array"

# the good config back: applied, and w answers where it was
before=$(lines)
cp good.json "$C.new"; mv "$C.new" "$C"
gen=$((gen + 1))
wait_log "$before" "generation $gen applied" || fail "good config back: no reload within 30 s"
ask; expect_eq "good config back: w answers as before" "$(served)" "$got"

# a missing file, and still missing: nothing to apply at the 2 s polls (the generation
# stays where it is), and said once
before=$(lines)
jq '.handlers += [{"qname": "gone.dyn.example.test", "qtype": "A", "file": "gone.txt"}]' good.json > "$C.new"
mv "$C.new" "$C"
wait_log "$before" "gone.dyn.example.test A serves nothing until the file is fixed" || fail "missing file: no reload within 30 s"
status_gen() { "$PDYNCTL" --dir "$tmp/ctl" --json status | jq '.copies[0].result.generation'; }
sleep 0.5
g1=$(status_gen)
sleep 4.5 # two polls
expect_eq "missing file: no new generation at the polls" "$g1" "$(status_gen)"
expect_eq "missing file: said once" 1 "$(new_lines "$before" | grep -c 'gone.txt: error: cannot open')"

# exit at EOF, cleanly: status 0, no sanitizer report (leaks included) in the log
exec {to}>&- {D[1]}>&-
for ((i = 0; i < 100; i++)); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$dpid" 2>/dev/null; then
    fail "no exit within 10 s of EOF"; stop_pid "$dpid"
else
    wait "$dpid"; expect_eq "exit status at EOF" 0 $?
fi
dpid=
expect_eq "no sanitizer report" "" "$(grep -E 'Sanitizer|runtime error' "$log" | head -5)"

echo "extremes: $passes passed, $fails failed (a 64 GiB file refused and z's edit served in ${t_huge} ms; peak RSS: ${rss0} KiB at start, ${rss1} KiB across the 10 M lists;" \
     "${rss3} KiB across the other files from ${rss2} KiB before them${sanitized:+; not judged under sanitizers})"
[ "$fails" -eq 0 ]
