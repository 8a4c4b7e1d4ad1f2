#!/bin/bash
# SPDX-License-Identifier: MIT
# A file being written is held at its previous list until it is closed, through the real
# PowerDNS (pdyndns(8), "Live reload"):
#   attrs:  a chmod, chown or touch of the file while it is written in place does not
#           release the hold (only the writer's close, a rename or a delete does); cp -p and
#           install, which set the times or mode of the file they write before closing it,
#           and a writer whose file is read meanwhile, are served once closed
#   link:   a list put in place by link() (rm; ln, cp -l, a tar hard-link member) has no
#           close to wait for: it is served at once, not held until the limit
#   slow:   a list still written after the limit (5 s) is served as it is then, with one
#           warning naming it, and complete once it is closed
#   prefix: a view's prefix file being written keeps the view's previous prefixes, for the
#           reload an event or the poll starts and for pdynctl reload
# Addresses encode their version: 10.V.0.1 to 10.V.0.3.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
z=$work/zone s=$work/src
mkdir -p "$z" "$s"

list() { printf '10.%d.0.1\n10.%d.0.2\n10.%d.0.3\n' "$1" "$1" "$1"; }
attrs="chmod chown touch cpp install catw"
links="rmln cpl tar"
handlers=
for n in $attrs $links gen; do
    list 1 > "$z/$n.txt"
    handlers+="{\"qname\": \"$n.dyn.example.test\", \"qtype\": \"A\", \"file\": \"$n.txt\", \"policy\": \"all\"},"
done
printf '192.0.2.1\n' > "$z/def.txt"
printf '192.0.2.41\n' > "$z/probes-addr.txt"
printf '# probes\n203.0.113.0/24\n127.0.0.0/8\n' > "$z/probes.txt"
cat > "$z/config.json" <<JSON
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60, "loglevel": "info",
 "handlers": [${handlers}
  {"qname": "probe.dyn.example.test", "qtype": "A", "file": "def.txt", "match": "resolver",
   "views": [{"name": "probes", "prefix_file": "probes.txt", "file": "probes-addr.txt"}]}]}
JSON
start_pdns "$work/pdns" "$z/config.json" 1 || { fail "start"; finish; }
answer() { q +short "$1.dyn.example.test" A | sort -V | tr '\n' ' '; }
flat() { list "$1" | tr '\n' ' '; }
# served NAME WANT: the answer is WANT within 4 s (a hold that waits for the limit takes 5)
served() {
    local a t0 ms
    t0=$(date +%s%N)
    for _ in $(seq 200); do
        a=$(answer "$1")
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        if [ "$a" = "$2" ]; then
            echo "  $1: served after $ms ms"
            return 0
        fi
        [ "$ms" -lt 4000 ] || break
        sleep 0.02
    done
    echo "  $1: still '$a' after 4 s"
    return 1
}

# --- attrs: the first line written, then the change of attributes, then the rest
for n in chmod chown touch; do
    f=$z/$n.txt
    (
        exec 3> "$f"
        printf '10.2.0.1\n' >&3
        sleep 0.3
        case $n in
        chmod) chmod 0640 "$f" ;;
        chown) chown "$(id -u):$(id -g)" "$f" ;;
        touch) touch "$f" ;;
        esac
        sleep 1
        printf '10.2.0.2\n10.2.0.3\n' >&3
    ) &
    writer=$!
    sleep 0.9 # the change of attributes 0.6 s ago
    expect_eq "$n during an in-place write: the previous list" "$(flat 1)" "$(answer "$n")"
    wait "$writer"
    served "$n" "$(flat 2)" && ok || fail "$n: the written list served once it is closed"
done
# writers that change the attributes themselves before they close: cp -p writes in place,
# then sets the times and mode on its descriptor; install makes the file anew, writes it,
# then sets its mode (the change of attributes in the same clock tick as the last write)
list 2 > "$s/cpp.txt"
touch -d '2020-01-01 00:00:00' "$s/cpp.txt"
cp -p "$s/cpp.txt" "$z/cpp.txt"
served cpp "$(flat 2)" && ok || fail "cp -p: served once closed, not at the limit"
list 2 > "$s/install.txt"
install -m 0640 "$s/install.txt" "$z/install.txt"
served install "$(flat 2)" && ok || fail "install -m: served once closed, not at the limit"
# somebody reads the file while it is written: the writer's close still ends the hold
(
    exec 3> "$z/catw.txt"
    printf '10.2.0.1\n' >&3
    sleep 0.3
    cat "$z/catw.txt" > /dev/null
    sleep 0.3
    printf '10.2.0.2\n10.2.0.3\n' >&3
) &
writer=$!
sleep 0.45
expect_eq "a read during an in-place write: the previous list" "$(flat 1)" "$(answer catw)"
wait "$writer"
served catw "$(flat 2)" && ok || fail "a list read while written: served once closed"

# --- link: the new list has no close to wait for
for n in $links; do
    f=$z/$n.txt
    list 2 > "$s/$n.txt"
    case $n in
    rmln) rm "$f"; ln "$s/$n.txt" "$f" ;;
    cpl) rm "$f"; cp -l "$s/$n.txt" "$f" ;;
    tar) # an archive holding the list twice, the second member a hard link to the first
        mkdir -p "$work/rel"; list 2 > "$work/rel/a.txt"; ln "$work/rel/a.txt" "$work/rel/$n.txt"
        tar -C "$work/rel" -cf "$work/rel.tar" a.txt "$n.txt"
        rm "$f"; tar -C "$z" -xf "$work/rel.tar" ;;
    esac
    served "$n" "$(flat 2)" && ok || fail "$n: a list put in place by link() served at once"
done

# --- slow: one address a second for 7 s, through the list's own name
(for i in 1 2 3 4 5 6 7; do echo "10.9.0.$i"; sleep 1; done > "$z/gen.txt") &
writer=$!
sleep 3
expect_eq "a list being generated: the previous list 3 s in" "$(flat 1)" "$(answer gen)"
wait "$writer"
served gen "10.9.0.1 10.9.0.2 10.9.0.3 10.9.0.4 10.9.0.5 10.9.0.6 10.9.0.7 " && ok ||
    fail "a list generated for 7 s: complete once it is closed"
# each copy of pdyndns (PowerDNS starts several) warns once
warned=$(grep "pdyndns\[[0-9]*\]: warning: $z/gen.txt: still being written after 5 s; serving it as it is now" \
    "$work/pdns/pdns.log" | sed 's/.*pdyndns\[\([0-9]*\)\].*/\1/')
[ -n "$warned" ] && ok || fail "a warning for the list written for longer than the limit"
expect_eq "one warning per copy" "" "$(echo "$warned" | sort | uniq -d)"

# --- prefix: the resolver 127.0.0.1 is in the file before and after, not in its first line
expect_eq "the resolver is in the view" "192.0.2.41 " "$(answer probe)"
(
    exec 3> "$z/probes.txt"
    printf '# probes\n203.0.113.0/24\n' >&3
    sleep 3 # longer than a poll
    printf '127.0.0.0/8\n' >&3
) &
writer=$!
sleep 0.5
expect_eq "a prefix file being written: the previous prefixes" "192.0.2.41 " "$(answer probe)"
"$PDYNCTL" --dir "$work/pdns/ctl" reload > /dev/null
expect_eq "pdynctl reload leaves a prefix file being written alone" "192.0.2.41 " "$(answer probe)"
sleep 2.2 # a poll
expect_eq "a prefix file being written, after a poll: the previous prefixes" "192.0.2.41 " "$(answer probe)"
wait "$writer"
served probe "192.0.2.41 " && ok || fail "the view once the prefix file is closed"
expect_eq "no errors logged" "" "$(grep 'pdyndns\[[0-9]*\]: error' "$work/pdns/pdns.log")"
finish
