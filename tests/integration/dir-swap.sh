#!/bin/bash
# SPDX-License-Identifier: MIT
# Every way a deploy replaces a directory on the way to the address files, through the real
# PowerDNS: rename a copy over it, delete and make it again, swap a release symlink with
# ln -sfn or by rename, replace a directory two levels up, swap a symlink high in the path.
# After each swap the new lists are served, and the watches follow the new directories: a
# slow writer that rewrites a list in place afterwards (its first line, a pause longer than
# the poll, the rest) is never served half-written, and a later edit is served.
# Addresses encode their version: 10.V.0.1 to 10.V.0.3 (policy all: one answer shows all).
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
z=$work/zone
mkdir -p "$z"
ROUNDS=${ROUNDS:-4}

list() { printf '10.%d.0.1\n10.%d.0.2\n10.%d.0.3\n' "$1" "$1" "$1"; }

# layouts: the path each handler's file has in the config, and the directory swapped
#   rename    rename/x.txt          rename/ renamed over by a copy
#   recreate  recreate/x.txt        recreate/ deleted and made again
#   lnsfn     lnsfn/cur/x.txt       cur -> rel/vN, swapped with ln -sfn
#   lnmv      lnmv/cur/x.txt        cur -> rel/vN, swapped with ln -s + mv -T
#   deep      deep/a/b/x.txt        deep/a renamed over (two levels above the file)
#   high      high/link/b/x.txt     high/link -> ../tgt/vN, a symlink high in the path
styles="rename recreate lnsfn lnmv deep high"
file_of() {
    case $1 in
    rename | recreate) echo "$1/x.txt" ;;
    lnsfn | lnmv) echo "$1/cur/x.txt" ;;
    deep) echo "deep/a/b/x.txt" ;;
    high) echo "high/link/b/x.txt" ;;
    esac
}
# swap STYLE VERSION: a new directory holding version V replaces the old one
swap() {
    local s=$1 v=$2 d=$z/$1
    case $s in
    rename) mkdir "$d.new"; list "$v" > "$d.new/x.txt"; mv -T "$d" "$d.old"; mv -T "$d.new" "$d"; rm -rf "$d.old" ;;
    recreate) rm -rf "$d"; mkdir "$d"; list "$v" > "$d/x.txt.tmp"; mv "$d/x.txt.tmp" "$d/x.txt" ;;
    lnsfn) mkdir -p "$d/rel/v$v"; list "$v" > "$d/rel/v$v/x.txt"; ln -sfn "rel/v$v" "$d/cur" ;;
    lnmv) mkdir -p "$d/rel/v$v"; list "$v" > "$d/rel/v$v/x.txt"; ln -s "rel/v$v" "$d/cur.tmp"; mv -T "$d/cur.tmp" "$d/cur" ;;
    deep) mkdir -p "$d/a.new/b"; list "$v" > "$d/a.new/b/x.txt"; mv -T "$d/a" "$d/a.old"; mv -T "$d/a.new" "$d/a"; rm -rf "$d/a.old" ;;
    high) mkdir -p "$z/tgt/v$v/b"; list "$v" > "$z/tgt/v$v/b/x.txt"; ln -sfn "../tgt/v$v" "$d/link" ;;
    esac
}
handlers=
for s in $styles; do
    handlers+="{\"qname\": \"$s.dyn.example.test\", \"qtype\": \"A\", \"file\": \"$(file_of "$s")\", \"policy\": \"all\"},"
done
mkdir -p "$z/rename" "$z/recreate" "$z/deep/a/b" "$z/high"
for s in rename recreate deep; do list 1 > "$z/$(file_of $s)"; done
for s in lnsfn lnmv; do mkdir -p "$z/$s/rel/v1"; list 1 > "$z/$s/rel/v1/x.txt"; ln -s rel/v1 "$z/$s/cur"; done
mkdir -p "$z/tgt/v1/b"; list 1 > "$z/tgt/v1/b/x.txt"; ln -s ../tgt/v1 "$z/high/link"
cat > "$z/config.json" <<JSON
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60, "loglevel": "info",
 "handlers": [${handlers%,}]}
JSON

start_pdns "$work/pdns" "$z/config.json" 1 || { fail "start"; finish; }

answer() { q +short "$1.dyn.example.test" A | sort | tr '\n' ' '; }
wait_list() { # STYLE VERSION: until the whole list of VERSION is served (3 s at most)
    local i want; want=$(list "$2" | sort | tr '\n' ' ')
    for i in $(seq 150); do [ "$(answer "$1")" = "$want" ] && return 0; sleep 0.02; done
    return 1
}

for s in $styles; do
    lost=0 lat=()
    for v in $(seq 2 $((ROUNDS + 1))); do
        swap "$s" "$v"
        wait_list "$s" "$v" || { lost=$((lost + 1)); echo "  $s: version $v never served after the swap (got '$(answer "$s")')"; }
    done
    expect_eq "$s: every one of $ROUNDS swaps served" 0 "$lost"
    # after the swaps: a slow writer in place, in the directory that is there now
    v=$((ROUNDS + 50))
    f=$z/$(file_of "$s")
    half=0 seen=0
    (
        exec 3> "$f"          # truncates: an empty file is refused, the list kept
        printf '10.%d.0.1\n' "$v" >&3
        sleep 2.6             # longer than the poll: a poll reads the file meanwhile
        printf '10.%d.0.2\n10.%d.0.3\n' "$v" "$v" >&3
        exec 3>&-
    ) &
    writer=$!
    while kill -0 "$writer" 2>/dev/null; do
        a=$(answer "$s")
        [ "$a" = "10.$v.0.1 " ] && half=$((half + 1))
        sleep 0.05
    done
    wait "$writer"
    expect_eq "$s: a list written slowly after the swaps is never served half-written" 0 "$half"
    wait_list "$s" "$v" && ok || fail "$s: the slowly written list was not served"
    # and an edit by rename: followed by the watch (latency shown, dig polls every 20 ms)
    v=$((v + 1))
    t0=$(date +%s%N)
    list "$v" > "$f.tmp"; mv "$f.tmp" "$f"
    if wait_list "$s" "$v"; then
        ok; echo "  $s: an edit after the swaps served in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    else
        fail "$s: an edit after the swaps was not served"
    fi
done
# pdynctl reload with the watches as they are: still every list right
"$PDYNCTL" --dir "$work/pdns/ctl" reload >/dev/null || fail "pdynctl reload"
for s in $styles; do
    expect_eq "$s: after pdynctl reload" "$(list $((ROUNDS + 51)) | sort | tr '\n' ' ')" "$(answer "$s")"
done
# (the slow writer's truncation refused, and the moments without the file, are true: recreate
# between its rm -rf and mkdir, rename and deep between their two mv; a reload that falls in
# one says so and keeps the list, as the answers above show)
expect_eq "nothing else logged at error level" "" "$(grep 'pdyndns\[[0-9]*\]: error: ' "$work/pdns/pdns.log" |
    grep -v 'no addresses in the file\|keeping the previous list' |
    grep -v '/\(recreate\|rename\|deep/a/b\)/x.txt: error: cannot open: No such file')"
finish
