#!/bin/bash
# SPDX-License-Identifier: MIT
# What each inotify watch asks for, read back from the kernel (/proc/PID/fdinfo). A directory
# that holds a watched file asks for its content and attribute events (an edit in place, a
# chmod of the list). A directory only on the way to one (/, the zone's parents, a directory
# of subdirectories) asks for names coming and going only: with a content or attribute event
# in its mask the kernel marks every child dentry it has cached when the watch is added, one
# long piece of work on the loop for a directory like /tmp. Both still see a rename over.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
. "$top/tests/assert.sh"
. "$top/tests/procs.sh"
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && stop_pid "$pid"; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/zone/lists/v4" "$tmp/zone/mixed/sub"
printf '10.0.0.%d\n' 1 2 3 > "$tmp/zone/lists/v4/a.txt"
printf '10.0.1.%d\n' 1 2 > "$tmp/zone/mixed/b.txt"
printf '10.0.2.%d\n' 1 2 > "$tmp/zone/mixed/sub/c.txt"
cat > "$tmp/zone/config.json" <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60, "loglevel": "debug",
 "handlers": [{"qname": "a.dyn.example.test", "qtype": "A", "file": "lists/v4/a.txt"},
              {"qname": "b.dyn.example.test", "qtype": "A", "file": "mixed/b.txt"},
              {"qname": "c.dyn.example.test", "qtype": "A", "file": "mixed/sub/c.txt"}]}
JSON
coproc D { exec "$PDYNDNS" --config "$tmp/zone/config.json" --control-dir "$tmp/ctl" 2>"$tmp/err"; }
pid=$D_PID
printf 'HELO\t3\n' >&"${D[1]}"
read -r -t 5 line <&"${D[0]}"
expect_match "the banner" "^OK" "$line"

# the watches, by inode: "inotify wd:N ino:HEX sdev:... mask:HEX ..."
masks() {
    local f
    for f in /proc/"$pid"/fdinfo/*; do grep -h '^inotify' "$f" 2>/dev/null; done |
        sed -n 's/.* ino:\([0-9a-f]*\) .* mask:\([0-9a-f]*\) .*/\1 \2/p'
}
mask_of() { # DIR: its watch's mask in hex, or nothing
    local ino
    ino=$(printf '%x' "$(stat -c %i "$1")")
    masks | awk -v i="$ino" '$1 == i { print $2 }' | head -1
}
for ((i = 0; i < 50; i++)); do [ -n "$(mask_of "$tmp/zone/mixed/sub")" ] && break; sleep 0.1; done
content=$((0x2 | 0x4 | 0x8)) # IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE
names=$((0x80 | 0x100 | 0x200)) # IN_MOVED_TO | IN_CREATE | IN_DELETE
check() { # DIR WHAT (files | way)
    local m
    m=$(mask_of "$1")
    if [ -z "$m" ]; then fail "$1 is watched"; return; fi
    ok
    expect_eq "$1 sees names come and go" "$names" $((0x$m & names))
    if [ "$2" = files ]; then
        expect_eq "$1 holds a list: its content and attribute events" "$content" $((0x$m & content))
    else
        expect_eq "$1 is on the way only: no content or attribute event" 0 $((0x$m & content))
    fi
}
check / way
check "$tmp" way
check "$tmp/zone" files # holds config.json
check "$tmp/zone/lists" way
check "$tmp/zone/lists/v4" files
check "$tmp/zone/mixed" files # holds b.txt and leads to sub/
check "$tmp/zone/mixed/sub" files

# a directory on the way renamed over is still followed: c's new list is served
cp -a "$tmp/zone/mixed" "$tmp/zone/mixed.new"
printf '10.0.9.9\n' > "$tmp/zone/mixed.new/sub/c.txt"
mv -T "$tmp/zone/mixed" "$tmp/zone/mixed.old" && mv -T "$tmp/zone/mixed.new" "$tmp/zone/mixed"
got=
for ((i = 0; i < 40; i++)); do
    printf 'Q\tc.dyn.example.test\tIN\tA\t-1\t127.0.0.1\t127.0.0.1\t127.0.0.1/32\n' >&"${D[1]}"
    got=
    while read -r -t 5 line <&"${D[0]}"; do
        [ "$line" = END ] && break
        got+="$line"
    done
    [[ $got == *10.0.9.9* ]] && break
    sleep 0.05
done
expect_match "a directory renamed over on the way: the new list served" "10\.0\.9\.9" "$got"
check "$tmp/zone/mixed" files
echo "watchmask: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
