#!/bin/bash
# SPDX-License-Identifier: MIT
# One prober for the copies PowerDNS starts (coprocess mode, distributor-threads=4): a TCP
# server on 127.0.0.1 and 127.0.0.2 counts the connections each address receives, and
# 127.0.0.3 has none (refused: down). The copies elect one prober (DIR/health.lock): the
# connections come at one per address per interval, not four; every copy leaves the down
# address out; SIGKILL of the prober: another copy takes over and the checks go on at one
# per interval; the state file damaged, truncated, removed, or no longer written by a stopped
# prober (which holds the lock): no copy dies, the followers warn, check themselves meanwhile,
# and follow again once it is good. Counts
# are judged with slack for a loaded machine (four probers would make four times as many).
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
zone=$work/zone dir=$work/pdns
mkdir -p "$zone"
PT=$(free_port)
printf '127.0.0.%d\n' 1 2 3 > "$zone/hc.txt"
cat > "$zone/config.json" <<JSON
{
  "loglevel": "info",
  "domain": "dyn.example.test",
  "soa": "ns1.example.test. hostmaster.example.test. 2026120301 7200 3600 1209600 120",
  "nameservers": ["ns1.example.test"],
  "ttl": 0,
  "handlers": [
    {"qname": "hc.dyn.example.test", "qtype": "A", "file": "hc.txt",
     "health": {"check": "tcp", "port": $PT, "interval": 0.5, "timeout": 0.3, "rise": 1, "fall": 2}}
  ]
}
JSON
cat > "$work/count.py" <<'PY'
import os, socket, sys, threading, time
port, out = int(sys.argv[1]), sys.argv[2]
counts = {"127.0.0.1": 0, "127.0.0.2": 0}
lock = threading.Lock()
def serve(a):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, port))
    s.listen(256)
    while True:
        c, _ = s.accept()
        c.close()
        with lock:
            counts[a] += 1
for a in counts:
    threading.Thread(target=serve, args=(a,), daemon=True).start()
print("ready", flush=True)
while True:
    with lock:
        text = "".join("%s %d\n" % (a, n) for a, n in sorted(counts.items()))
    open(out + ".new", "w").write(text)
    os.rename(out + ".new", out)
    time.sleep(0.05)
PY
/usr/bin/python3 "$work/count.py" "$PT" "$work/counts" > "$work/count.log" 2>&1 &
pdns_pids+=($!)
for _ in $(seq 100); do grep -q ready "$work/count.log" && break; sleep 0.05; done

start_pdns "$dir" "$zone/config.json" 3 "distributor-threads=4" || { fail "start"; finish; }
log=$dir/pdns.log
ctl() { "$PDYNCTL" --dir "$dir/ctl" "$@"; }
# (a copy that is gone but not yet reaped, as PowerDNS 5 reaps them late, is no copy)
copies() {
    local p
    for p in $(cat /proc/"$PDNS_PID"/task/*/children); do
        [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] || echo "$p"
    done | grep . | sort -n | tr '\n' ' '
}
count() { awk -v a="$1" '$1 == a { print $2 }' "$work/counts"; }
# checks_in SECONDS ADDRESS: connections ADDRESS received in SECONDS
checks_in() {
    local a b
    a=$(count "$2"); sleep "$1"; b=$(count "$2")
    echo $((b - a))
}
# every_copy_down ADDRESS: every copy's status has ADDRESS down, and its query leaves it out
every_copy_down() {
    local st n bad
    for _ in $(seq 60); do
        st=$(ctl --json status hc.dyn.example.test 2>/dev/null)
        n=$(jq '.copies | length' <<< "$st")
        bad=$(jq --arg a "$1" '[.copies[].result.handlers[0].health.addresses[] | select(.address == $a and .up)] | length' <<< "$st")
        [ "$n" -ge 4 ] && [ "$bad" = 0 ] && return 0
        sleep 0.1
    done
    echo "  copies $n, of which $bad see $1 up" >&2
    return 1
}

for _ in $(seq 100); do [ "$(ctl --json list 2>/dev/null | jq '.copies | length')" -ge 4 ] && break; sleep 0.1; done
expect_eq "4 copies (and a TCP one) run" 1 "$( [ "$(ctl --json list | jq '.copies | length')" -ge 4 ] && echo 1)"
wait_log "health: this copy \(pid [0-9]+\) now checks" || fail "no copy was elected"
wait_log "hc.dyn.example.test A 127.0.0.3 is down" || fail "127.0.0.3 never went down"
every_copy_down 127.0.0.3 && ok || fail "a copy still has 127.0.0.3 up"
expect_eq "the change logged once (by the prober)" 1 "$(grep -c 'hc.dyn.example.test A 127.0.0.3 is down' "$log")"
# (PowerDNS may start and stop a copy before the ones that serve: the last elected probes)
elected() { grep -oE 'health: this copy \(pid [0-9]+\)' "$log" | tail -1 | tr -dc '0-9'; }
leader=$(elected)
grep -qw "$leader" <<< "$(copies)" && ok || fail "the prober $leader is not a running copy"

# one check per address per interval (0.5 s): 8 in 4 s; four probers would make 32
n=$(checks_in 4 127.0.0.1)
echo "  127.0.0.1 received $n connections in 4 s"
[ "$n" -ge 4 ] && [ "$n" -le 12 ] && ok || fail "127.0.0.1: $n connections in 4 s (8 expected for one prober)"

# every copy answers without the down address: each copy's query, then questions
got=$(ctl --json query hc.dyn.example.test A | jq -r '[.copies[] | [.result.answers[]?.content] | map(select(. == "127.0.0.1" or . == "127.0.0.2")) | length > 0] | map(select(.)) | length')
expect_eq "pdynctl query: every copy answers with an up address" "$(ctl --json list | jq '.copies | length')" "$got"
got=$(ctl --json query hc.dyn.example.test A | jq -r '[.copies[].result.answers[]?.content | select(. == "127.0.0.3")] | length')
expect_eq "pdynctl query: no copy answers 127.0.0.3" 0 "$got"
got=$(seq 40 | xargs -P 8 -I{} "$DIG" +short +time=2 +tries=1 @127.0.0.1 -p "$PORT" hc.dyn.example.test A | sort -u | tr '\n' ' ')
expect_eq "40 questions: never 127.0.0.3" "127.0.0.1 127.0.0.2 " "$got"

# pdynctl health names the prober
got=$(ctl --json health hc.dyn.example.test A | jq -r '[.copies[].result.handlers[0].health.prober] | unique | join(" ")')
expect_eq "pdynctl health: every copy names the prober" "$leader" "$got"

out=$(ctl health hc.dyn.example.test A)
echo "$out" | sed 's/^/  | /'
expect_eq "pdynctl health: the prober says it probes" 1 \
    "$(grep -c "checked by this copy (pid $leader), for every copy" <<< "$out")"
expect_eq "pdynctl health: the others name it" $(($(ctl --json list | jq '.copies | length') - 1)) \
    "$(grep -c "checked by pid $leader, for every copy" <<< "$out")"
expect_match "pdynctl health: the down address, its last result, its next check" \
    '127\.0\.0\.3 +down since [0-9 :-]+, last: connect: Connection refused \([0-9.]+ ms\), next check in [0-9.]+ s' "$out"
expect_eq "pdynctl health with no argument: the same checks" "$(grep -c 127.0.0.3 <<< "$out")" \
    "$(ctl health | grep -c 127.0.0.3)"
out=$(ctl health nosuch.dyn.example.test A 2>&1); rc=$?
expect_eq "pdynctl health of an unknown name: exit 1" 1 "$rc"
expect_match "pdynctl health of an unknown name: said" 'no handler named nosuch\.dyn\.example\.test' "$out"
out=$(ctl health hc.dyn.example.test AAAA 2>&1); rc=$?
expect_eq "pdynctl health of an unchecked type: exit 1" 1 "$rc"
expect_match "pdynctl health of an unchecked type: said" 'hc\.dyn\.example\.test AAAA has no health checks' "$out"
ctl health hc.dyn.example.test > /dev/null 2>&1; rc=$?
expect_eq "pdynctl health NAME without TYPE: usage, exit 2" 2 "$rc"

# the health metrics: one series per address (lists up to metrics_max_addresses), promtool
# takes them
m=$(ctl metrics)
expect_match "metrics: 127.0.0.3 down" 'pdyndns_health_up\{name="hc.dyn.example.test",qtype="A",view="",address="127.0.0.3"\} 0' "$m"
expect_match "metrics: 127.0.0.1 up" 'pdyndns_health_up\{name="hc.dyn.example.test",qtype="A",view="",address="127.0.0.1"\} 1' "$m"
expect_match "metrics: one down" 'pdyndns_health_down\{name="hc.dyn.example.test",qtype="A",view=""\} 1' "$m"
expect_match "metrics: the latency of the last check" 'pdyndns_health_check_latency_seconds\{name="hc.dyn.example.test",qtype="A",view="",address="127.0.0.1"\} [0-9.e-]+' "$m"
# the transition was counted once, by the prober (the others took it from its file)
expect_eq "metrics: one transition" 'pdyndns_health_transitions_total{name="hc.dyn.example.test",qtype="A",view=""} 1' \
    "$(grep '^pdyndns_health_transitions_total{' <<< "$m")"
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}
if [ -x "$PROMTOOL" ]; then
    "$PROMTOOL" check metrics <<< "$m" > "$work/promtool.out" 2>&1 && ok ||
        { fail "promtool check metrics refused the health metrics:"; cat "$work/promtool.out"; }
fi

# SIGKILL of the prober: another copy takes over at once, the checks go on at one per interval
n=$(grep -cE 'health: this copy \(pid [0-9]+\) now checks' "$log")
before=$(copies | wc -w)
kill -KILL "$leader"
wait_log "health: this copy \(pid [0-9]+\) now checks" $((n + 1)) || fail "no copy took over"
newleader=$(elected)
[ "$newleader" != "$leader" ] && ok || fail "the dead copy was elected again"
# PowerDNS starts a copy again where one died, at the next question of that thread
for _ in $(seq 30); do
    seq 16 | xargs -P 8 -I{} "$DIG" +short +time=2 +tries=1 @127.0.0.1 -p "$PORT" hc.dyn.example.test A > /dev/null
    [ "$(copies | wc -w)" -ge "$before" ] && break
done
n=$(checks_in 4 127.0.0.1)
echo "  after the takeover: 127.0.0.1 received $n connections in 4 s"
[ "$n" -ge 4 ] && [ "$n" -le 12 ] && ok || fail "after the takeover: $n connections in 4 s (8 expected)"
every_copy_down 127.0.0.3 && ok || fail "after the takeover: a copy has 127.0.0.3 up"

# the state file under attack: every follower warns once, none dies, answers stay right
state=$dir/ctl/health.state
pids=$(copies)
followers=$(($(wc -w <<< "$pids") - 1))
# stop_prober TAG PATTERN COMMAND...: stops the prober (SIGSTOP: it would write the file again
# within a second, maybe before every follower looked), runs COMMAND, and wants every follower
# to warn (matching PATTERN)
stop_prober() {
    local tag=$1 pat=$2 p missing
    shift 2
    from=$(wc -l < "$log")
    good=$(grep -c "health: $state is good again" "$log")
    kill -STOP "$newleader"
    "$@"
    for _ in $(seq 200); do
        missing=0
        for p in $pids; do
            [ "$p" = "$newleader" ] && continue
            tail -n +"$((from + 1))" "$log" | grep -qE "pdyndns\[$p\]: warning: health: $state: [^;]*$pat" || missing=$p
        done
        [ "$missing" = 0 ] && break
        sleep 0.05
    done
    [ "$missing" = 0 ] && ok || fail "$tag: copy $missing did not warn: $(tail -n +"$((from + 1))" "$log" | grep 'health:')"
}
# resume_prober TAG: the prober goes on and writes the file again: each follower follows
# again, no copy died, and the answers leave 127.0.0.3 out
resume_prober() {
    local tag=$1 got
    kill -CONT "$newleader"
    wait_log "health: $state is good again" $((good + followers)) || fail "$tag: never good again"
    expect_eq "$tag: the same copies" "$pids" "$(copies)"
    if tail -n +"$((from + 1))" "$log" | grep -E 'Child closed pipe|Backend launched|Backend reported'; then
        fail "$tag: a copy died"
    else ok; fi
    got=$(seq 20 | xargs -P 8 -I{} "$DIG" +short +time=2 +tries=1 @127.0.0.1 -p "$PORT" hc.dyn.example.test A | sort -u | tr '\n' ' ')
    expect_eq "$tag: answers without 127.0.0.3" "127.0.0.1 127.0.0.2 " "$got"
}
attack() { stop_prober "$@"; resume_prober "$1"; }
garbage() { head -c 5000 /dev/urandom > "$state.x" && mv "$state.x" "$state"; }
short() { head -c 100 "$state" > "$state.x" && mv "$state.x" "$state"; }
flip() { cp "$state" "$state.x" && printf 'X' | dd of="$state.x" bs=1 seek=200 conv=notrunc status=none && mv "$state.x" "$state"; }
attack "garbage" "bad magic" garbage
attack "truncated" "records in 100 bytes" short
attack "one byte changed" "checksum mismatch" flip
attack "removed" "missing \(the prober has not written it for 3 s\)" rm -f "$state"
every_copy_down 127.0.0.3 && ok || fail "after the attacks: a copy has 127.0.0.3 up"

# a prober that stops writing (the file left as it is): the same, and since the followers
# check themselves meanwhile, a change is seen: 127.0.0.3 comes up, and every copy but the
# stopped one has it up; once the prober goes on, they follow it again, which has it down
up3() {
    /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.3", int(sys.argv[1]))); s.listen(256); s.settimeout(0.2)
end = time.time() + 60
while time.time() < end:
    try: s.accept()[0].close()
    except socket.timeout: pass
' "$PT" &
    up3=$!
    pdns_pids+=($up3)
}
stop_prober "stopped prober" "not written again for 3 s \(its prober, pid $newleader, is stopped" up3
# (the stopped copy cannot answer pdynctl: its entry is an error, the others' results count)
for _ in $(seq 60); do
    st=$(ctl --timeout 1 --json status hc.dyn.example.test 2>/dev/null)
    seen=$(jq '[.copies[] | select(.result) | .result.handlers[0].health.addresses[] | select(.address == "127.0.0.3" and .up)] | length' <<< "$st")
    [ "$seen" -ge "$followers" ] && break
    sleep 0.1
done
expect_eq "stopped prober: the followers check themselves and see 127.0.0.3 come up" "$followers" "$seen"
# (gone before the prober goes on: its overdue check of 127.0.0.3 comes first, and a listener
# still there would bring it up, rightly, for a second)
kill "$up3"; wait "$up3" 2>/dev/null
resume_prober "stopped prober"
every_copy_down 127.0.0.3 && ok || fail "the prober back: a copy still has 127.0.0.3 up"
finish
