#!/bin/bash
# SPDX-License-Identifier: MIT
# The demo (make demo, data/demo.sh) as a new user meets it:
# - make demo builds pdynctl too, and "make ctl/pdynctl" knows that it needs the generated
#   ctl/completion.h (asked of make itself, with the Makefile's rules only, as on a fresh tree);
# - started as make demo starts it, on a free port given by DEMO_PORT, every command it prints
#   is run exactly as printed and its output checked against data/config.json and its lists;
#   the list edit it suggests is seen served;
# - Ctrl-C (SIGINT to its process group) and SIGTERM (to its PID) stop it, leaving no process
#   and no temp dir behind; a bad DEMO_PORT is refused before anything starts.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
src=${top_srcdir:-$top}
build=${top_builddir:-$top}
PDYNDNS=${PDYNDNS:-$build/daemon/pdyndns}
PDYNCTL=${PDYNCTL:-$build/ctl/pdynctl}
. "$src/tests/procs.sh" # free_port
. "$src/tests/assert.sh" # passes, fails, ok, fail, expect_eq, expect_match

command -v pdns_server >/dev/null || [ -x /usr/sbin/pdns_server ] || { echo "SKIP: pdns_server not installed"; exit 77; }
ls /usr/lib/*/pdns/libpipebackend.so >/dev/null 2>&1 || { echo "SKIP: pdns-backend-pipe not installed"; exit 77; }
for t in dig jq setsid pgrep; do
    command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
[ -x "$PDYNDNS" ] && [ -x "$PDYNCTL" ] || { echo "FAIL: $PDYNDNS or $PDYNCTL not built"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pdyndns-demotest.XXXXXX")
demo= # the demo's PID, also its process group (setsid)
cleanup() {
    # last resort only (the test stopped early): TERM lets the demo clean up, then KILL
    local i
    if [ -n "$demo" ] && kill -0 "$demo" 2>/dev/null; then
        kill -TERM "$demo" 2>/dev/null
        for ((i = 0; i < 100; i++)); do kill -0 "$demo" 2>/dev/null || break; sleep 0.1; done
        kill -9 -- "-$demo" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- the Makefile: what make would do, knowing only its own rules (a fresh tree has no
# dependency files yet; the ones a build writes would hide a missing rule)
if [ -f "$build/Makefile" ] && command -v make >/dev/null; then
    sed '/# am--include-marker$/d' "$build/Makefile" > "$tmp/Makefile.fresh"
    out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$build" -f "$tmp/Makefile.fresh" -n -W ctl/completion.h ctl/pdynctl 2>&1)
    expect_match "make ctl/pdynctl: pdynctl.c is compiled after ctl/completion.h" \
        '-o ctl/pdynctl-pdynctl\.o' "$out"
    out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$build" -f "$tmp/Makefile.fresh" -n -W ctl/pdynctl.c demo 2>&1)
    expect_match "make demo: builds ctl/pdynctl" '-o ctl/pdynctl ' "$out"
fi

# --- what the demo serves, from the sources it copies
data=$src/data
config=$data/config.json
domain=$(jq -r .domain "$config")
soa=$(jq -r .soa "$config")
nameservers=$(jq -r '.nameservers[] | sub("\\.?$"; ".")' "$config" | sort)
list_of() { # FILE: the addresses of an address file, in order
    awk '{ sub(/#.*/, ""); if (NF) print $1 }' "$1"
}
handler_file() { # QNAME QTYPE: the file of that handler, or nothing
    jq -r --arg n "$1" --arg t "$2" '.handlers[] | select(.qname == $n and .qtype == $t) | .file' "$config"
}

# start_demo NAME PORT: starts the demo as make demo does, in its own session and process
# group, SIGINT at its default as in a terminal (a background job of a script ignores it);
# waits until it prints its commands. Sets demo and out.
start_demo() {
    local i
    out=$tmp/$1.out
    : > "$out" # before the job opens it: the wait below reads it at once
    DEMO_PORT=$2 env --default-signal=INT,QUIT setsid bash "$src/data/demo.sh" "$PDYNDNS" "$PDYNCTL" "$data" \
        > "$out" 2>&1 < /dev/null &
    demo=$!
    for ((i = 0; i < 300; i++)); do
        grep -q 'Press Ctrl-C to stop' "$out" && return 0
        kill -0 "$demo" 2>/dev/null || break
        sleep 0.1
    done
    fail "$1: the demo did not start; its output:"; cat "$out"
    return 1
}

# stop_demo NAME SIGNAL TARGET [twice]: sends SIGNAL to TARGET (the PID, or -PID for the
# process group) and checks that the demo exits 0 having stopped everything it started. With
# "twice", SIGNAL again and again once the demo says it stops, i.e. during its cleanup (an
# impatient hand on Ctrl-C), which must not cut the cleanup short.
stop_demo() {
    local name=$1 sig=$2 target=$3 twice=${4:-} i rc left dir pdns
    dir=$(sed -n 's|^PowerDNS is answering from \(/tmp/pdyndns-demo\.[^/]*\)/data/config\.json .*|\1|p' "$out")
    pdns=$(sed -n 's/.*(pdns pid \([0-9]*\)).*/\1/p' "$out")
    [ -n "$dir" ] && [ -n "$pdns" ] && ok || fail "$name: the demo did not print its directory and pdns pid"
    # a build with --enable-sanitizers: the copies report on stderr, i.e. in pdns.log
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$dir/pdns.log" 2>/dev/null; then
        fail "$name: sanitizer reports in the PowerDNS log:"
        grep -E -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$dir/pdns.log" | head -60
    fi
    kill "-$sig" -- "$target"
    if [ -n "$twice" ]; then
        for ((i = 0; i < 200; i++)); do
            grep -q 'demo: stopped' "$out" && break
            kill -0 "$demo" 2>/dev/null || break
            sleep 0.05
        done
        # and again, as a hand on Ctrl-C would, while the demo cleans up (at most 2 s)
        for ((i = 0; i < 20; i++)); do
            kill "-$sig" -- "$target" 2>/dev/null || break
            sleep 0.1
        done
    fi
    for ((i = 0; i < 200; i++)); do kill -0 "$demo" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$demo" 2>/dev/null; then
        fail "$name: the demo still runs 20 s after SIG$sig"
        kill -9 -- "-$demo" 2>/dev/null
    fi
    wait "$demo"; rc=$?
    expect_eq "$name: the demo exits 0 on SIG$sig" 0 "$rc"
    # the demo waits for what it started: nothing of its process group may be left now
    left=$(pgrep -g "$demo" -a 2>/dev/null)
    expect_eq "$name: nothing left running after SIG$sig" "" "$left"
    [ -n "$left" ] && kill -9 -- "-$demo" 2>/dev/null
    [ -n "$pdns" ] && ! kill -0 "$pdns" 2>/dev/null && ok || fail "$name: pdns_server $pdns still runs"
    [ -n "$dir" ] && [ ! -e "$dir" ] && ok || fail "$name: $dir left behind"
    grep -q 'demo: stopped' "$out" && ok || fail "$name: no 'demo: stopped' line"
    demo=
}

run() { # COMMAND: runs it exactly as printed, as a user pasting it into bash; sets rc, got
    # (its stdout) and err (its stderr)
    got=$(bash -c "$1" 2>"$tmp/stderr"); rc=$?
    err=$(cat "$tmp/stderr")
}

# --- run 1: every command printed, then Ctrl-C
port=$(free_port)
if start_demo run1 "$port"; then
    expect_match "the demo says how to pick another port" 'DEMO_PORT=[0-9]+ make demo' "$(cat "$out")"
    dir=$(sed -n 's|^PowerDNS is answering from \(/tmp/pdyndns-demo\.[^/]*\)/data/config\.json .*|\1|p' "$out")
    mapfile -t cmds < <(awk '/^Try, in another terminal:$/ { t = 1; next }
        t && /^  [^ ]/ { print substr($0, 3); c = 1; next } t && c && /^$/ { exit }' "$out")
    [ "${#cmds[@]}" -ge 10 ] && ok || { fail "fewer than 10 commands printed"; cat "$out"; }
    status_cmd=
    declare -A digs=() # "NAME TYPE" -> the dig command printed for it
    for c in "${cmds[@]}"; do
        [[ ${c%%#*} =~ /pdynctl\ (.*\ )?status\  ]] && status_cmd=$c
        [[ $c == "dig "* ]] || continue
        read -r -a w <<< "${c%%#*}"
        digs["${w[4]:-} ${w[5]:-}"]=$c
    done
    for c in "${cmds[@]}"; do
        bare=${c%%#*} note=
        [[ $c == *"#"* ]] && note=${c#*#}
        read -r -a w <<< "$bare"
        if [[ $c == "dig "* ]]; then
            # dig @127.0.0.1 -p PORT NAME TYPE [+short]
            expect_eq "$c: asks the demo's port" "@127.0.0.1 -p $port" "${w[1]:-} ${w[2]:-} ${w[3]:-}"
            name=${w[4]:-} type=${w[5]:-} short=${w[6]:-}
            file=$(handler_file "$name" "$type")
            run "$c"
            expect_eq "$c: exit status" 0 "$rc"
            expect_eq "$c: nothing on stderr" "" "$err"
            if [ -n "$file" ] && [ "$short" = +short ]; then
                mapfile -t list < <(list_of "$data/$file")
                if [[ $note == *repeat:* ]]; then
                    # the note promises the list's order, from its first address, round and round
                    rotation=("$got")
                    for ((i = 1; i <= ${#list[@]}; i++)); do run "$c"; rotation+=("$got"); done
                    want=("${list[@]}" "${list[0]}")
                    expect_eq "$c: repeated, the list in order" "${want[*]}" "${rotation[*]}"
                else
                    printf '%s\n' "${list[@]}" | grep -qxF -- "$got" && ok ||
                        fail "$c: '$got' is not one address of $file"
                fi
            elif [ "$type" = SOA ] && [ -z "$short" ]; then
                expect_match "$c: NOERROR" 'status: NOERROR' "$got"
                expect_match "$c: the config's SOA" "$name\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+SOA[[:space:]]+${soa//./\\.}" "$got"
            elif [ "$type" = NS ] && [ "$short" = +short ]; then
                expect_eq "$c: the config's nameservers" "$nameservers" "$(sort <<< "$got")"
            elif [ "$type" = AXFR ]; then
                expect_eq "$c: SOA first and last" 2 "$(grep -cE "^$name\.[[:space:]].*IN[[:space:]]+SOA[[:space:]]+${soa//./\\.}" <<< "$got")"
                for ns in $nameservers; do
                    expect_match "$c: NS $ns" "IN[[:space:]]+NS[[:space:]]+${ns//./\\.}" "$got"
                done
                while read -r hq ht hf; do
                    a=$(awk -v n="$hq." -v t="$ht" '$1 == n && $4 == t { print $5; exit }' <<< "$got")
                    list_of "$data/$hf" | grep -qxF -- "${a:-none}" && ok ||
                        fail "$c: no $hq $ht from $hf in the transfer"
                done < <(jq -r '.handlers[] | "\(.qname) \(.qtype) \(.file)"' "$config")
            elif [[ $note == *NXDOMAIN* ]]; then
                expect_match "$c: NXDOMAIN" 'status: NXDOMAIN' "$got"
            elif [[ $note == *"NOERROR, no data"* ]]; then
                expect_match "$c: NOERROR" 'status: NOERROR' "$got"
                expect_match "$c: no data" 'ANSWER: 0,' "$got"
            else
                fail "$c: a printed command this test does not check; add its check"
            fi
        elif [[ ${w[0]} == */pdynctl ]]; then
            run "$c"
            expect_eq "$c: exit status" 0 "$rc"
            # pdynctl [OPTION...] COMMAND ARG...: the words after the options
            args=()
            for ((i = 1; i < ${#w[@]}; i++)); do
                case ${w[i]} in
                --dir | --socket | --timeout | --client) i=$((i + 1)) ;;
                --*) ;;
                *) args+=("${w[i]}") ;;
                esac
            done
            expect_match "$c: names the demo's control directory" "^[^ ]+/pdynctl --dir $dir/ctl " "$bare"
            case ${args[0]:-} in
            status)
                expect_match "$c: the zone" "zone $domain, generation [0-9]+" "$got"
                # the demo's copies, and only them (not those of another pdyndns on the machine)
                copies=$(grep -E '^pdyndns [^ ]+, pid [0-9]+:' <<< "$got" | sed 's/.*, config //' | sort -u)
                expect_eq "$c: every copy listed serves the demo's config" "$dir/data/config.json" "$copies"
                while read -r hq ht hf; do
                    expect_match "$c: $hq $ht from the copy's $hf" "$hq +$ht .*/data/$hf" "$got"
                done < <(jq -r '.handlers[] | "\(.qname) \(.qtype) \(.file)"' "$config")
                ;;
            query)
                file=$(handler_file "${args[1]:-}" "${args[2]:-}")
                expect_match "$c: NOERROR" 'NOERROR' "$got"
                a=$(awk -v n="${args[1]:-}" -v t="${args[2]:-}" '$1 == n && $4 == t { print $5; exit }' <<< "$got")
                [ -n "$file" ] && list_of "$data/$file" | grep -qxF -- "${a:-none}" && ok ||
                    fail "$c: no address of ${file:-?} answered: $got"
                ;;
            *) fail "$c: a printed command this test does not check; add its check" ;;
            esac
            # nothing on stderr; but one complaint is a known bug of its own (issue 15 §4: the
            # copy PowerDNS starts for the AXFR is killed and leaves its socket, which the next
            # pdynctl reports and removes): shown, not counted, until that is fixed
            known=$(grep -E '^pdynctl: skipping .*/pdyndns\.[0-9]+\.sock: nobody listens \(a stale socket of a killed copy\); removed it$' <<< "$err")
            [ -n "$known" ] && echo "KNOWN (issue 15 §4, not counted): $known"
            expect_eq "$c: nothing on stderr" "" "$(grep -vxF -- "$known" <<< "$err")"
        elif [[ $c =~ ^echo\ ([^ ]+)\ \>\>\ ([^ ]+) ]]; then
            # the suggested edit: the address appended must be served by the handler of that
            # file, through the printed commands (status shows it loaded, then dig answers it)
            new=${BASH_REMATCH[1]} edited=${BASH_REMATCH[2]}
            run "$c"
            expect_eq "$c: exit status" 0 "$rc"
            expect_eq "$c: edits the demo's copy" "$dir/data/${edited##*/}" "$edited"
            hq= ht=
            read -r hq ht < <(jq -r --arg f "${edited##*/}" '.handlers[] | select(.file == $f) | "\(.qname) \(.qtype)"' "$config")
            [ -n "$hq" ] && ok || fail "$c: edits no list of a handler"
            seen=
            for ((i = 0; i < 100; i++)); do
                run "$status_cmd"
                [[ $got == *" $new="* ]] && { seen=1; break; }
                sleep 0.1
            done
            [ -n "$seen" ] && ok || fail "$c: pdynctl status never shows $new: $got"
            dc=${digs["$hq $ht"]:-}
            if [ -z "$dc" ]; then fail "$c: the demo prints no dig for $hq $ht"; continue; fi
            n=$(list_of "$edited" | wc -l)
            answers=
            for ((i = 0; i < n; i++)); do run "$dc"; answers+=" $got"; done
            [[ "$answers " == *" $new "* ]] && ok || fail "$c: $n answers of '$dc' without $new:$answers"
        else
            fail "$c: a printed command this test does not check; add its check"
        fi
    done
    [ -n "$status_cmd" ] && ok || fail "the demo prints no pdynctl status command"
    stop_demo run1 INT "-$demo" twice
fi

# --- run 2: SIGTERM to the demo's PID alone
port=$(free_port)
if start_demo run2 "$port"; then
    got=$(dig +short @127.0.0.1 -p "$port" "$domain" SOA)
    expect_eq "run2: answers on DEMO_PORT" "$soa" "$got"
    stop_demo run2 TERM "$demo"
fi

# --- a bad DEMO_PORT: refused, nothing started
before=$(ls -d /tmp/pdyndns-demo.* 2>/dev/null | sort)
got=$(DEMO_PORT=53x bash "$src/data/demo.sh" "$PDYNDNS" "$PDYNCTL" "$data" 2>&1); rc=$?
expect_eq "DEMO_PORT=53x: exit status" 2 "$rc"
expect_match "DEMO_PORT=53x: says why" 'DEMO_PORT=53x is not a port number.*nothing started' "$got"
expect_eq "DEMO_PORT=53x: no temp dir" "$before" "$(ls -d /tmp/pdyndns-demo.* 2>/dev/null | sort)"

echo "demo: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
