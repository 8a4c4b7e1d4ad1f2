#!/bin/bash
# SPDX-License-Identifier: MIT
# Every way people update a list, 20 times each, through the real PowerDNS: the new list is
# served shortly after every update, none is lost, and once a version has been seen no
# older one comes back. Addresses encode their version: 10.V.0.1 to 10.V.0.3.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
z=$work/zone
mkdir -p "$z/lists" "$z/cm"
ROUNDS=${ROUNDS:-20}

list() { printf '# version %d\n10.%d.0.1\n10.%d.0.2\n10.%d.0.3\n' "$1" "$1" "$1" "$1"; }

styles="inplace cp mv sedi vim symlink configmap recreate"
handlers=
for s in $styles; do
    handlers+="{\"qname\": \"$s.dyn.example.test\", \"qtype\": \"A\", \"file\": \"$s.txt\"},"
done
# the symlink styles: symlink.txt -> lists/symlink-vN.txt; configmap.txt -> ..data/configmap.txt
list 1 > "$z/lists/symlink-v1.txt"; ln -s lists/symlink-v1.txt "$z/symlink.txt"
mkdir "$z/..v1"; list 1 > "$z/..v1/configmap.txt"; ln -s ..v1 "$z/..data"; ln -s ..data/configmap.txt "$z/configmap.txt"
for s in inplace cp mv sedi vim recreate; do list 1 > "$z/$s.txt"; done
cat > "$z/config.json" <<JSON
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60, "loglevel": "info",
 "handlers": [${handlers%,}]}
JSON

update() { # STYLE VERSION
    local s=$1 v=$2 f=$z/$1.txt
    case $s in
    inplace) list "$v" > "$f" ;;
    cp) list "$v" > "$work/cp.src"; cp "$work/cp.src" "$f" ;;
    mv) list "$v" > "$f.tmp"; mv "$f.tmp" "$f" ;;
    sedi) sed -i "s/^10\.$((v - 1))\./10.$v./; s/version $((v - 1))/version $v/" "$f" ;;
    vim) mv "$f" "$f~"; list "$v" > "$f"; rm -f "$f~" ;;
    symlink) list "$v" > "$z/lists/symlink-v$v.txt"; ln -sfn "lists/symlink-v$v.txt" "$f" ;;
    configmap)
        mkdir "$z/..v$v"; list "$v" > "$z/..v$v/configmap.txt"
        ln -s "..v$v" "$z/..data_tmp"; mv -T "$z/..data_tmp" "$z/..data"; rm -rf "$z/..v$((v - 1))" ;;
    recreate) rm "$f"; list "$v" > "$f" ;;
    esac
}

start_pdns "$work/pdns" "$z/config.json" 1 || { fail "start"; finish; }

for s in $styles; do
    lost=0 back=0 lat=()
    for v in $(seq 2 $((ROUNDS + 1))); do
        t0=$(date +%s%N)
        update "$s" "$v"
        seen=
        for _ in $(seq 150); do   # 3 s at most
            a=$(q +short "$s.dyn.example.test" A)
            ver=$(echo "$a" | cut -d. -f2)
            if [ "$ver" = "$v" ]; then seen=1; break; fi
            sleep 0.02
        done
        [ -n "$seen" ] || { lost=$((lost + 1)); echo "  $s: version $v never served (last answer '$a')"; continue; }
        lat+=($(( ($(date +%s%N) - t0) / 1000000 )))
        # no older version once the new one is seen
        for a in $(q +short "$s.dyn.example.test" A "$s.dyn.example.test" A "$s.dyn.example.test" A); do
            [ "$(echo "$a" | cut -d. -f2)" = "$v" ] || { back=$((back + 1)); echo "  $s: after version $v, got '$a'"; }
        done
    done
    expect_eq "$s: every one of $ROUNDS updates served" 0 "$lost"
    expect_eq "$s: no older version after a newer one" 0 "$back"
    sorted=$(printf '%s\n' "${lat[@]}" | sort -n)
    echo "  $s: update to first new answer, median $(echo "$sorted" | sed -n "$(( (${#lat[@]} + 1) / 2 ))p") ms, max $(echo "$sorted" | tail -1) ms (dig polls every 20 ms)"
done
# The styles where the file is missing for a moment (vim, delete then recreate) may log
# that, truthfully, if a reload falls in that moment; nothing else may fail.
expect_eq "no errors logged but for a file missing for a moment" "" \
    "$(grep 'pdyndns\[[0-9]*\]: error: ' "$work/pdns/pdns.log" | grep -vE '/(recreate|vim)\.txt')"
finish
