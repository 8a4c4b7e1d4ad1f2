#!/bin/bash
# SPDX-License-Identifier: MIT
# Abuse of the control socket, through the pdyndns binary run as a coprocess: garbage
# requests, a 1 MiB request without a newline, 1,000 idle clients at once, slow clients,
# clients that hang up before reading a large reply, and a descriptor limit of 64. Through
# all of it the pipe keeps answering in exact rotation, memory stays bounded, no SIGPIPE
# kills the daemon, and accepting backs off on EMFILE without spinning or flooding the log.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
PDYNCTL=${PDYNCTL:-$top/ctl/pdynctl}
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: $PY not installed"; exit 77; }
. "$(dirname "$0")/assert.sh" # passes, fails, ok, fail, expect_eq, expect_match
expect_lt() { # NAME LIMIT GOT
    if [[ $3 =~ ^[0-9]+$ ]] && [ "$3" -lt "$2" ]; then ok; else fail "$1: $3, want < $2"; fi
}

tmp=$(mktemp -d)
pid=
cleanup() {
    local j
    for j in $(jobs -p); do kill "$j" 2>/dev/null; done # the Python clients, if cut short
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; wait "$pid" 2>/dev/null; }
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/conf" && cd "$tmp/conf" || exit 1

printf '10.0.0.1\n10.0.0.2\n10.0.0.3\n' > v4.txt
printf '2001:db8::1\n' > v6.txt
cat > small.json <<'JSON'
{"domain": "d.test", "soa": "ns1.d.test. h.d.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.d.test"], "ttl": 60, "advance": "per-lookup",
 "handlers": [{"qname": "t1.d.test", "qtype": "A", "file": "v4.txt"},
              {"qname": "t1.d.test", "qtype": "AAAA", "file": "v6.txt"}]}
JSON
# 1,000 handlers of 10 addresses: a status reply of about 500 KiB, beyond a socket buffer
for i in $(seq 10); do echo "192.0.2.$i"; done > ten.txt
{
    printf '{"domain": "d.test", "soa": "ns1.d.test. h.d.test. 1 7200 3600 7200 120",\n'
    printf ' "nameservers": ["ns1.d.test"], "ttl": 60, "advance": "per-lookup",\n'
    printf ' "handlers": [{"qname": "t1.d.test", "qtype": "A", "file": "v4.txt"}'
    for i in $(seq 2 1000); do printf ',\n  {"qname": "h%d.d.test", "qtype": "A", "file": "ten.txt"}' "$i"; done
    printf ']}\n'
} > big.json
cd "$tmp" || exit 1

# The control clients. Every socket has a timeout and every loop a deadline.
cat > ctl.py <<'PY'
import codecs, os, resource, select, socket, sys, threading, time

TOO_MANY = b'{"v":1,"ok":false,"error":"too many clients"}\n'

def connect(path, timeout=10):
    """A connected socket; while the listen backlog is full, connect() fails with EAGAIN
    at once, so it is tried again until the timeout."""
    end = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.001)

def read_all(s, limit=1 << 26):
    """The reply and how the connection ended: <CLOSED> or <TIMEOUT>. A close with our
    request still unread in the daemon reaches us as a reset after the reply: the same."""
    out = b""
    try:
        while len(out) < limit:
            d = s.recv(1 << 16)
            if not d:
                return out, "<CLOSED>"
            out += d
    except ConnectionResetError:
        return out, "<CLOSED>"
    except socket.timeout:
        return out, "<TIMEOUT>"
    return out, "<LIMIT>"

def wait_file(path, seconds):
    end = time.monotonic() + seconds
    while not os.path.exists(path) and time.monotonic() < end:
        time.sleep(0.05)

def status(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.rename(path + ".tmp", path)

cmd, sock = sys.argv[1], sys.argv[2]
if cmd == "send":  # PAYLOAD (Python escapes): send it, half-close, print reply and ending
    s = connect(sock)
    s.sendall(codecs.escape_decode(sys.argv[3])[0])
    s.shutdown(socket.SHUT_WR)
    out, end = read_all(s)
    sys.stdout.write(out.decode("utf-8", "replace") + end + "\n")
elif cmd == "big":  # SIZE N: N clients at once send SIZE bytes without a newline, as far
    # as the daemon takes them; prints each distinct outcome with its count
    size, n = int(sys.argv[3]), int(sys.argv[4])
    results = []
    def one():
        s = connect(sock)
        data, sent = b"x" * size, 0
        try:
            while sent < len(data):
                sent += s.send(data[sent:sent + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass
        out, end = read_all(s)
        results.append(out.decode("utf-8", "replace") + end)
    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for r in sorted(set(results)):
        print("%d: %s" % (results.count(r), r))
elif cmd == "slow":  # PAYLOAD DELAY_MS: one byte at a time
    payload, delay = codecs.escape_decode(sys.argv[3])[0], int(sys.argv[4]) / 1000
    s = connect(sock)
    t0 = time.monotonic()
    try:
        for i in range(len(payload)):
            s.sendall(payload[i:i + 1])
            time.sleep(delay)
    except (BrokenPipeError, ConnectionResetError):
        pass
    out, end = read_all(s)
    sys.stdout.write(out.decode("utf-8", "replace") + end + "\n")
    sys.stderr.write("%.1f s\n" % (time.monotonic() - t0))
elif cmd == "hangup":  # COUNT READ: ask for status COUNT times, read READ bytes, hang up
    total = 0
    for _ in range(int(sys.argv[3])):
        s = connect(sock)
        s.sendall(b'{"v":1,"cmd":"status"}\n')
        got = 0
        while got < int(sys.argv[4]):
            d = s.recv(int(sys.argv[4]) - got)
            if not d:
                break
            got += len(d)
        s.close()
        total += got
    print(total)
elif cmd == "noread":  # COUNT STATUS_FILE RELEASE_FILE: ask, never read, hold until released
    conns = [connect(sock) for _ in range(int(sys.argv[3]))]
    for s in conns:
        s.sendall(b'{"v":1,"cmd":"status"}\n')
    status(sys.argv[4], "sent")
    wait_file(sys.argv[5], 30)
elif cmd == "hold":  # COUNT STATUS_FILE RELEASE_FILE [drop]: connect COUNT at once
    n, stfile, release = int(sys.argv[3]), sys.argv[4], sys.argv[5]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
    t0 = time.monotonic()
    conns = [connect(sock) for _ in range(n)]
    # the refused ones are told so and closed at once; wait for them (bounded)
    end, readable = time.monotonic() + 10, []
    while time.monotonic() < end:
        p = select.poll()
        for s in conns:
            p.register(s, select.POLLIN)
        readable = [fd for fd, _ in p.poll(0)]
        if len(readable) >= n - 64:
            break
        time.sleep(0.05)
    time.sleep(0.2)  # anything else that was going to be refused
    p = select.poll()
    for s in conns:
        p.register(s, select.POLLIN)
    readable = {fd for fd, _ in p.poll(0)}
    held, refused, other = [], 0, 0
    for i, s in enumerate(conns):
        if s.fileno() in readable:
            s.settimeout(2)
            out, how = read_all(s)
            if out == TOO_MANY and how == "<CLOSED>":
                refused += 1
                continue
            if out:
                other += 1
                continue
        held.append(i)  # still open, or (on a slow machine) dropped without a reply
    first = "the first %d" % len(held) if held == list(range(len(held))) else "not the first ones"
    status(stfile, "held %d (%s), refused %d, other %d" % (len(held), first, refused, other))
    sys.stderr.write("  %d clients connected and sorted in %.1f s\n" % (n, time.monotonic() - t0))
    wait_file(release, 30)
    # were they held all along? (the daemon drops idle clients after 5 s)
    p = select.poll()
    for i in held:
        p.register(conns[i], select.POLLIN)
    still = len(held) - len(p.poll(0))
    status(stfile + ".release", "%d still held after %.1f s" % (still, time.monotonic() - t0))
    if len(sys.argv) > 6:  # drop: wait until the daemon drops the held ones (bounded)
        t0, dropped = time.monotonic(), 0
        for i in held:
            conns[i].settimeout(max(0.1, t0 + 15 - time.monotonic()))
            out, how = read_all(conns[i])
            dropped += out == b"" and how == "<CLOSED>"
        status(stfile + ".dropped", "%d dropped without a reply" % dropped)
elif cmd == "slowread":  # OUT: ask for status, read 64 KiB every 5 ms, write it to OUT
    s = connect(sock)
    s.sendall(b'{"v":1,"cmd":"status"}\n')
    out, how = b"", "<TIMEOUT>"
    end = time.monotonic() + 120
    while time.monotonic() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            how = "<CLOSED>"
            break
        out += d
        time.sleep(0.005)
    open(sys.argv[3], "wb").write(out + how.encode() + b"\n")
elif cmd == "flood":  # COUNT STATUS_FILE RELEASE_FILE: hold COUNT connections, reconnecting
    # every one the daemon closes, until released; counts the closes and what they said
    n, stfile, release = int(sys.argv[3]), sys.argv[4], sys.argv[5]
    conns, closed, said, t0 = [], 0, {}, time.monotonic()
    def one():
        try:
            s = connect(sock, 0.05)
            s.setblocking(False)
            return s
        except OSError:
            return None
    while len(conns) < n and time.monotonic() < t0 + 20:
        conns.append(one())
    status(stfile, "connected %d of %d" % (sum(1 for s in conns if s), n))
    end = time.monotonic() + 60
    while not os.path.exists(release) and time.monotonic() < end:
        p = select.poll()
        for s in conns:
            if s:
                p.register(s, select.POLLIN)
        ready = {fd for fd, _ in p.poll(50)}
        for i, s in enumerate(conns):
            if s is None or s.fileno() in ready:
                if s is not None:
                    try:
                        d = s.recv(4096)
                    except OSError:
                        d = b""
                    said[d] = said.get(d, 0) + 1
                    s.close()
                    closed += 1
                conns[i] = one()
    status(stfile + ".release", "closed %d: %s" % (closed, "; ".join(
        "%d %s" % (c, d.decode("utf-8", "replace").strip() or "<nothing>") for d, c in sorted(said.items()))))
PY
ctl() { "$PY" "$tmp/ctl.py" "$@"; }

# start_daemon CONFIG [FDLIMIT]: pdyndns as the coprocess D, HELO'd, its pid in $pid,
# its socket in $sock, its stderr in $log
start_daemon() {
    local cfg=$1 lim=${2:-} i line
    log=$tmp/log.${cfg##*/}.${lim:-0}
    nq=0
    # each daemon's rotation from the first address: the shared counters the last one left
    # in the control directory go (they would carry its rotation on, as a restart does)
    rm -f "${ctldir:-$tmp/ctl}/rotation.counters"
    if [ -n "$lim" ]; then
        coproc D { ulimit -n "$lim" && exec "$PDYNDNS" --config "$cfg" --control-dir "${ctldir:-$tmp/ctl}" 2>"$log"; }
    else
        coproc D { exec "$PDYNDNS" --config "$cfg" --control-dir "${ctldir:-$tmp/ctl}" 2>"$log"; }
    fi
    pid=$D_PID
    sock=${ctldir:-$tmp/ctl}/pdyndns.$pid.sock
    printf 'HELO\t3\n' >&"${D[1]}"
    read -r -t 10 line <&"${D[0]}"
    [[ $line == OK* ]] || fail "$cfg: no banner: $line"
    for ((i = 0; i < 100; i++)); do [ -S "$sock" ] && break; sleep 0.05; done
    [ -S "$sock" ] || fail "$cfg: no control socket $sock"
    # its descriptors settled: a large config's watches are armed by its first reload
    for ((i = 0; i < 100; i++)); do
        ls -l "/proc/$pid/fd" 2>/dev/null | grep -q 'anon_inode:inotify' && break; sleep 0.05
    done
}

# stop_daemon NAME: EOF on stdin; it must exit 0 on its own (not killed by SIGPIPE or else)
stop_daemon() {
    local i rc
    [ -n "${D[1]:-}" ] && exec {D[1]}>&-
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && { fail "$1: no exit at EOF"; kill -9 "$pid"; }
    wait "$pid"; rc=$?
    expect_eq "$1: exit status at EOF (no SIGPIPE death)" 0 $rc
    if grep -q 'Sanitizer\|runtime error' "$log"; then fail "$1: sanitizer report"; head -30 "$log"; fi
    pid=
}

# questions N: N questions for t1 A on the pipe; every answer exact, rotation one step each
# (per-lookup; ABI 3 gives the scope of the client's /32). Adds the number answered correctly
# to $asked and $good (no subshell: $nq counts the lookups); stops at the first wrong answer.
questions() {
    local n=$1 i l1 l2 want
    for ((i = 0; i < n; i++)); do
        asked=$((asked + 1))
        [ -n "${D[1]:-}" ] || { echo "  the daemon is gone"; break; }
        printf 'Q\tt1.d.test\tIN\tA\t-1\t127.0.0.1\t0.0.0.0\t127.0.0.1\n' >&"${D[1]}"
        l1= l2=
        read -r -t 5 l1 <&"${D[0]}" && read -r -t 5 l2 <&"${D[0]}"
        want=$'DATA\t32\t1\tt1.d.test\tIN\tA\t0\t1\t10.0.0.'$((nq % 3 + 1))'|END'
        nq=$((nq + 1))
        [ "$l1|$l2" == "$want" ] || { echo "  answer $nq: $(printf %q "$l1|$l2"), want $(printf %q "$want")"; break; }
        good=$((good + 1))
    done
}

nfds() { ls "/proc/$pid/fd" 2>/dev/null | wc -l; }
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$pid/status"; }
cputicks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# wait_fds N: until the daemon holds N descriptors again (its clients gone), at most 15 s
wait_fds() {
    local i
    for ((i = 0; i < 300; i++)); do [ "$(nfds)" -eq "$1" ] && return 0; sleep 0.05; done
    return 1
}
# expect_fds NAME N: the daemon's descriptors back to N; if not, what it holds
expect_fds() {
    wait_fds "$2" && { ok; return; }
    fail "$1: descriptors back to $2: $(nfds)"
    ls -l "/proc/$pid/fd" | sed 's/^/  /'
    tail -5 "$log" | sed 's/^/  /'
}
# wait_file FILE: at most 20 s
wait_file() {
    local i
    for ((i = 0; i < 400; i++)); do [ -e "$1" ] && return 0; sleep 0.05; done
    return 1
}

# expect_refused NAME N: with every client slot taken, pdynctl is refused, N times out of N.
# The daemon may refuse before pdynctl has sent its request: pdynctl must still read the
# reason. (Few tries: each takes ~150 ms under ASan, all within the daemon's 5 s timeout.)
expect_refused() {
    local i out rc
    for ((i = 0; i < $2; i++)); do
        out=$("$PDYNCTL" --socket "$sock" status 2>&1); rc=$?
        [ "$rc $out" == "1 pdynctl: pid $pid: too many clients" ] || break
    done
    expect_eq "$1: refused, $2 times out of $2" "$2: 1 pdynctl: pid $pid: too many clients" "$i: $rc $out"
}
err() { printf '{"v":1,"ok":false,"error":"%s"}\n<CLOSED>' "$1"; }
# expect_questions NAME N: N questions, all answered in exact rotation
expect_questions() {
    asked=0 good=0
    questions "$2"
    expect_eq "$1: $2 questions answered in rotation" "$2" "$good"
}

# --- 1. garbage: the exact error, the connection closed, the daemon serving -----------------
start_daemon conf/small.json
base=$(nfds)
expect_questions "start" 3
garbage() { expect_eq "garbage: $1" "$3" "$(ctl send "$sock" "$2")"; }
garbage "binary bytes" '\x00\xff\xfe\x01binary\x80\n' "$(err 'not valid JSON')"
garbage "an empty line" '\n' "$(err 'not valid JSON')"
garbage "JSON cut short" '{"v":1,"cmd":\n' "$(err 'not valid JSON')"
garbage "invalid UTF-8 in a string" '{"v":1,"cmd":"\xff"}\n' "$(err 'not valid JSON')"
garbage "a duplicate key" '{"v":1,"cmd":"status","v":1}\n' "$(err 'not valid JSON')"
garbage "an array" '[1,2]\n' "$(err 'not a JSON object')"
garbage "an unknown command" '{"v":1,"cmd":"frobnicate"}\n' "$(err 'unknown command')"
garbage "another version" '{"v":2,"cmd":"status"}\n' "$(err 'unsupported protocol version (this daemon speaks 1)')"
garbage "an unknown key" '{"v":1,"cmd":"status","x":1}\n' "$(err 'unknown key in request')"
garbage "a NUL in a name" '{"v":1,"cmd":"query","name":"a\\u0000b","type":"A"}\n' "$(err 'a string holds \\u0000')"
garbage "a NUL in a key (json-c would cut it: a second cmd)" '{"v":1,"cmd":"status","cmd\\u0000x":"reload"}\n' \
    "$(err 'a string holds \\u0000')"
garbage "no newline before EOF: no reply" '{"v":1,"cmd":"status"}' '<CLOSED>'
garbage "two requests: the first answered, then closed" \
    '{"v":1,"cmd":"query","name":"t1.d.test","type":"AAAA"}\n{"v":1,"cmd":"frobnicate"}\n' \
    '{"v":1,"ok":true,"result":{"pid":'"$pid"',"name":"t1.d.test","type":"AAAA","client":null,"rcode":"NOERROR","answers":[{"name":"t1.d.test","type":"AAAA","ttl":0,"content":"2001:db8::1"}]}}
<CLOSED>'
# a client that shuts its side after asking for a reload still gets the reply
expect_match "reload, then shutdown(SHUT_WR): the reply" '^\{"v":1,"ok":true,"result":\{"pid":'"$pid"',"generation":2,.*\}\}
<CLOSED>$' "$(ctl send "$sock" '{"v":1,"cmd":"reload"}\n')"
kill -0 "$pid" 2>/dev/null; expect_eq "garbage: daemon alive" 0 $?
expect_questions "after garbage" 10
"$PDYNCTL" --socket "$sock" status >/dev/null; expect_eq "garbage: pdynctl status after it" 0 $?
expect_fds "garbage: every connection closed" "$base"

# --- 2. a 1 MiB request without a newline ----------------------------------------------------
h0=$(hwm)
expect_eq "1 MiB request: the reply, then closed" "1: $(err 'request too long')" "$(ctl big "$sock" 1048576 1)"
expect_eq "1 MiB request: the warning logged once" \
    "pdyndns[$pid]: warning: control: dropping a request longer than 65536 bytes" \
    "$(grep 'control: dropping a request' "$log")"
expect_eq "64 requests of 1 MiB at once: each refused" "64: $(err 'request too long')" "$(ctl big "$sock" 1048576 64)"
expect_eq "64 requests of 1 MiB: one warning each" 65 "$(grep -c 'control: dropping a request' "$log")"
h1=$(hwm)
# each client's buffer is capped at 64 KiB: 65 of them fill 4 MiB (glibc reuses it: +1 MiB;
# ASan's quarantine does not: +7 MiB), far below the 65 MiB the requests add up to
expect_lt "1 MiB requests: VmHWM growth in KiB (from $h0 KiB)" 16384 $((h1 - h0))
expect_questions "after 1 MiB requests" 10
echo "  1 MiB requests: VmHWM $h0 KiB before, $h1 KiB after 65 of them"
expect_fds "1 MiB requests" "$base"

# --- 3. 1,000 idle clients at once -----------------------------------------------------------
h0=$(hwm)
rm -f "$tmp"/hold.*
ctl hold "$sock" 1000 "$tmp/hold.st" "$tmp/hold.go" drop &
holder=$!
asked=0 good=0
for ((i = 0; i < 400; i++)); do # questions while the clients connect
    [ -e "$tmp/hold.st" ] && break
    questions 5; [ "$good" -eq "$asked" ] || break
done
wait_file "$tmp/hold.st"
expect_eq "1,000 idle clients: 64 held, the rest told so and closed" \
    "held 64 (the first 64), refused 936, other 0" "$(cat "$tmp/hold.st")"
expect_eq "1,000 idle clients: questions meanwhile ($asked) answered in rotation" "$asked" "$good"
expect_refused "pdynctl while 64 clients are held" 5
expect_questions "64 idle clients held" 50
h1=$(hwm)
# 64 empty buffers of 64 KiB: +0.3 MiB with glibc, +3.5 MiB with ASan
expect_lt "1,000 idle clients: VmHWM growth in KiB (from $h0 KiB)" 8192 $((h1 - h0))
touch "$tmp/hold.go"
wait_file "$tmp/hold.st.release"
held=$(cat "$tmp/hold.st.release")
expect_eq "idle clients: held until the checks above were done ($held)" "64 still held" "${held% after*}"
echo "  1,000 idle clients: VmHWM $h0 KiB before, $h1 KiB with 64 held; $held"
wait "$holder"
expect_eq "idle clients: dropped by the daemon after its timeout" "64 dropped without a reply" \
    "$(cat "$tmp/hold.st.dropped" 2>/dev/null)"
"$PDYNCTL" --socket "$sock" status >/dev/null; expect_eq "pdynctl status once the idlers are gone" 0 $?
expect_fds "idle clients" "$base"

# --- 4. slow clients: one byte every 50 ms ---------------------------------------------------
ctl slow "$sock" '{"v":1,"cmd":"status"}\n' 50 > slow1.out 2> slow1.err &
s1=$!
ctl slow "$sock" '{"v":1,"cmd":"nope"}\n' 50 > slow3.out 2> slow3.err &
s3=$!
# a request that never ends: dropped at the daemon's 5 s timeout, without a reply
ctl slow "$sock" '{"v":1,'"$(printf '%*s' 200 '')" 50 > slow4.out 2> slow4.err &
s4=$!
asked=0 good=0
for ((i = 0; i < 400; i++)); do # questions as long as the slow clients last (at most ~20 s)
    { kill -0 $s1 || kill -0 $s3 || kill -0 $s4; } 2>/dev/null || break
    questions 2; [ "$good" -eq "$asked" ] || break
    sleep 0.05
done
wait $s1 $s3 $s4
[ "$asked" -ge 40 ] && ok || fail "slow clients: only $asked questions asked while they lasted"
expect_eq "slow clients: questions meanwhile ($asked) answered in rotation" "$asked" "$good"
out=$("$PY" -c '
import json, sys
lines = open(sys.argv[1]).read().rstrip("\n").split("\n")
r = json.loads(lines[0])["result"]
hs = [json.loads(l)["item"] for l in lines[1:-2]]
h, end = hs[1], json.loads(lines[-2])["end"]
print(r["pid"], r["zone"], len(hs), end["count"], h["qname"], h["qtype"], h["addresses"], lines[-1])' slow1.out 2>&1)
expect_eq "slow status ($(cat slow1.err)): answered" "$pid d.test 2 2 t1.d.test AAAA 1 <CLOSED>" "$out"
expect_eq "slow unknown command ($(cat slow3.err)): the exact error" "$(err 'unknown command')" "$(cat slow3.out)"
expect_eq "a request that never ends: dropped without a reply" '<CLOSED>' "$(cat slow4.out)"
expect_fds "slow clients" "$base"
stop_daemon "small config"

# --- 5. hanging up before a large reply is read ----------------------------------------------
start_daemon conf/big.json
base=$(nfds)
size=$(ctl send "$sock" '{"v":1,"cmd":"status"}\n' | wc -c)
wmem=$(cat /proc/sys/net/core/wmem_default 2>/dev/null || echo 212992)
[ "$size" -gt $((2 * wmem)) ] && ok || fail "status of 1,000 handlers: $size bytes, not beyond twice the socket buffer ($wmem)"
h0=$(hwm)
expect_eq "10 clients hang up before reading a byte" 0 "$(ctl hangup "$sock" 10 0)"
expect_eq "10 clients hang up after 4 KiB" $((10 * 4096)) "$(ctl hangup "$sock" 10 4096)"
kill -0 "$pid" 2>/dev/null; expect_eq "hang-ups: daemon alive" 0 $?
expect_questions "after hang-ups" 10
# 16 clients that ask for the large reply and never read it: dropped at the timeout
ctl noread "$sock" 16 "$tmp/noread.st" "$tmp/noread.go" &
holder=$!
wait_file "$tmp/noread.st"
expect_fds "16 clients that never read: dropped" "$base"
h1=$(hwm)
touch "$tmp/noread.go"
wait "$holder"
expect_questions "after clients that never read" 10
out=$("$PDYNCTL" --socket "$sock" --json status | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)["copies"][0]["result"]["handlers"]))')
expect_eq "pdynctl status after the hang-ups: every handler" 1000 "$out"
rm -f "$tmp"/hold.*
ctl hold "$sock" 65 "$tmp/hold.st" "$tmp/hold.go" &
holder=$!
wait_file "$tmp/hold.st"
expect_eq "no client slot leaked: 64 held, the 65th refused" \
    "held 64 (the first 64), refused 1, other 0" "$(cat "$tmp/hold.st")"
expect_refused "pdynctl while 64 clients are held again" 10
touch "$tmp/hold.go"
wait_file "$tmp/hold.st.release"
held=$(cat "$tmp/hold.st.release")
expect_eq "64 clients held until the checks above were done ($held)" "64 still held" "${held% after*}"
wait "$holder"
expect_fds "hang-ups" "$base"
echo "  VmHWM with 1,000 handlers: $h0 KiB after one status of $size bytes, $h1 KiB with 16 replies unread"
stop_daemon "big config"

# --- 6. a descriptor limit of 64 --------------------------------------------------------------
start_daemon conf/small.json 64
base=$(nfds)
n=$((64 - base + 8)) # every free descriptor taken, 8 more waiting in the backlog
rm -f "$tmp"/hold.*
ctl hold "$sock" "$n" "$tmp/hold.st" "$tmp/hold.go" &
holder=$!
wait_file "$tmp/hold.st"
expect_eq "EMFILE: every client connected" "held $n (the first $n), refused 0, other 0" "$(cat "$tmp/hold.st")"
for ((i = 0; i < 100; i++)); do grep -q 'control: cannot accept' "$log" && break; sleep 0.02; done
expect_eq "EMFILE: descriptors 0 to 63 all taken" 64 "$(ls "/proc/$pid/fd" | awk '$1 < 64' | wc -l)"
c0=$(cputicks) w0=$(date +%s%N)
out=$("$PDYNCTL" --socket "$sock" --timeout 1 status 2>&1); rc=$?
expect_eq "EMFILE: a new client waits (pdynctl times out)" 5 $rc
asked=0 good=0
for ((i = 0; i < 10; i++)); do
    questions 2; [ "$good" -eq "$asked" ] || break
    sleep 0.1
done
c1=$(cputicks) w1=$(date +%s%N)
cpu_ms=$(((c1 - c0) * 1000 / $(getconf CLK_TCK))) wall_ms=$(((w1 - w0) / 1000000))
expect_lt "EMFILE: daemon CPU ms over $wall_ms ms (not spinning)" 300 "$cpu_ms"
expect_eq "EMFILE: questions meanwhile answered in rotation" "$asked" "$good"
expect_eq "EMFILE: one warning for the episode" \
    "pdyndns[$pid]: warning: control: cannot accept (Too many open files); new clients wait, retrying every 100 ms" \
    "$(grep 'control: cannot accept' "$log")"
touch "$tmp/hold.go"
wait_file "$tmp/hold.st.release"
held=$(cat "$tmp/hold.st.release")
expect_eq "EMFILE: out of descriptors until the checks above were done ($held)" "$n still held" "${held% after*}"
wait "$holder"
for ((i = 0; i < 50; i++)); do "$PDYNCTL" --socket "$sock" --timeout 1 status >/dev/null 2>&1 && break; sleep 0.1; done
"$PDYNCTL" --socket "$sock" status >/dev/null; expect_eq "EMFILE over: pdynctl status works again" 0 $?
# one "accepting again" per episode; the backlog drained as the held clients close can make
# a short second episode, which must be said the same way (one warning, one line at its end)
again=$(grep 'control: accepting again' "$log" | head -1)
[[ $again =~ ^pdyndns\[$pid\]:\ info:\ control:\ accepting\ again\ after\ [0-9.]+\ s\ \([0-9]+\ attempts\ failed\)$ ]] &&
    ok || fail "EMFILE over: not said: $again"
expect_eq "EMFILE over: one warning and one end line per episode" \
    "$(grep -c 'control: cannot accept' "$log")" "$(grep -c 'control: accepting again' "$log")"
expect_fds "EMFILE over" "$base"
expect_questions "after EMFILE" 10
stop_daemon "descriptor limit 64"

# --- 7. a status of any size: 12,000 handlers, over 4 MiB, streamed between questions -------
{
    printf '{"domain": "d.test", "soa": "ns1.d.test. h.d.test. 1 7200 3600 7200 120",\n'
    printf ' "nameservers": ["ns1.d.test"], "ttl": 60, "advance": "per-lookup",\n'
    printf ' "handlers": [{"qname": "t1.d.test", "qtype": "A", "file": "v4.txt"}'
    for ((i = 2; i <= 12000; i++)); do printf ',\n  {"qname": "h%d.d.test", "qtype": "A", "file": "ten.txt"}' "$i"; done
    printf ']}\n'
} > conf/huge.json
start_daemon conf/huge.json
# the first reload of 12,000 lists (a worker with files open, watches armed in slices) is
# over when the count holds still: the baseline is taken then
base=$(nfds)
for ((i = 0; i < 50; i++)); do sleep 0.2; n=$(nfds); [ "$n" -eq "$base" ] && break; base=$n; done
"$PDYNCTL" --socket "$sock" --json status > huge.json; expect_eq "12,000 handlers: --json status exit" 0 $?
size=$(stat -c %s huge.json)
[ "$size" -gt 4194304 ] && ok || fail "12,000 handlers: a document of $size bytes, not over 4 MiB"
out=$("$PY" -c '
import json, sys
c = json.load(open(sys.argv[1]))["copies"][0]
hs = c["result"]["handlers"]
print(c["ok"], c["result"]["n_handlers"], len(hs), len({(h["qname"], h["qtype"]) for h in hs}), sum(h["addresses"] for h in hs))' huge.json 2>&1)
expect_eq "12,000 handlers: every one, once, in one document" "True 12000 12000 12000 119993" "$out"
"$PDYNCTL" --socket "$sock" status > huge.txt; expect_eq "12,000 handlers: status exit" 0 $?
expect_eq "12,000 handlers: a row each" 12000 "$(grep -c '^  [ht][0-9]*\.d\.test  *A  *round-robin ' huge.txt)"
out=$("$PDYNCTL" --socket "$sock" status h7777.d.test T1.D.TEST. 2>&1); rc=$?
expect_eq "status NAME...: exit 0" 0 $rc
expect_eq "status NAME...: those rows only" "h7777.d.test t1.d.test" "$(echo "$out" | awk '/^  [ht][0-9]*\.d\.test / {print $1}' | sort | tr '\n' ' ' | sed 's/ $//')"
out=$("$PDYNCTL" --socket "$sock" status nope.d.test 2>&1); rc=$?
expect_eq "status of a name without a handler: exit 1 and why" "1 pdynctl: pid $pid: no handler named nope.d.test" "$rc $(echo "$out" | grep '^pdynctl')"
# a client that reads slowly, while questions go on: every answer in rotation, the status whole
ctl slowread "$sock" slow.out &
reader=$!
asked=0 good=0
for ((i = 0; i < 2000; i++)); do
    kill -0 $reader 2>/dev/null || break
    questions 2; [ "$good" -eq "$asked" ] || break
done
wait $reader
expect_eq "questions while a slow client takes a large status ($asked): answered in rotation" "$asked" "$good"
out=$("$PY" -c '
import json, sys
lines = open(sys.argv[1]).read().rstrip("\n").split("\n")
items = [json.loads(l)["item"] for l in lines[1:-2]]
print(json.loads(lines[0])["result"]["n_handlers"], len(items), json.loads(lines[-2])["end"]["count"], lines[-1])' slow.out 2>&1)
expect_eq "the slow client's status: whole" "12000 12000 12000 <CLOSED>" "$out"
expect_fds "large status" "$base"
stop_daemon "12,000 handlers"

# --- 8. a control_group member holding 500 connections, reconnecting: root is still served ---
# Read-only clients have a budget of their own; a new one closes the one idle longest, and
# out of descriptors one of them is closed so that accepting goes on.
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
    sed 's/"ttl": 60,/"ttl": 60, "control_group": "nogroup",/' conf/small.json > conf/group.json
    chmod 755 "$tmp"
    chmod 644 "$tmp/ctl.py"
    member() { setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }
    for lim in "" 40; do
        what="read-only flood${lim:+, descriptor limit $lim}"
        ctldir=$tmp/ctl-group$lim
        start_daemon conf/group.json $lim
        base=$(nfds)
        rm -rf "$tmp/flood" && mkdir -m 1777 "$tmp/flood"
        member "$PY" "$tmp/ctl.py" flood "$sock" 500 "$tmp/flood/st" "$tmp/flood/go" &
        flooder=$!
        wait_file "$tmp/flood/st"
        good=0 out=
        for i in 1 2 3 4 5; do
            out=$("$PDYNCTL" --socket "$sock" status 2>&1) && [[ $out == *"t1.d.test "* ]] && good=$((good + 1))
        done
        expect_eq "$what: root's status, 5 times out of 5 (${out:0:100})" 5 "$good"
        out=$("$PDYNCTL" --socket "$sock" reload 2>&1)
        expect_eq "$what: root's reload (${out:0:100})" 0 $?
        # another member takes an idle one's place (out of descriptors, with a dozen places
        # for hundreds of clients, it may lose its own before its request is read)
        for i in 1 2 3; do out=$(member "$PDYNCTL" --socket "$sock" status 2>&1) && break; done
        if [ -z "$lim" ]; then [[ $out == *"t1.d.test "* ]] && ok || fail "$what: another member's status: ${out:0:200}"; fi
        expect_questions "$what: questions meanwhile" 10
        touch "$tmp/flood/go"
        wait_file "$tmp/flood/st.release"
        wait "$flooder"
        echo "  $what: $(cat "$tmp/flood/st"); $(cat "$tmp/flood/st.release")"
        expect_match "$what: idle read-only clients closed for new ones" \
            'closed [1-9][0-9]*: .*too many read-only clients, this one idle longest' "$(cat "$tmp/flood/st.release")"
        expect_fds "$what: every connection closed" "$base"
        stop_daemon "$what"
    done
    ctldir=
fi

echo "  EMFILE: ${cpu_ms} ms CPU over $wall_ms ms; ${again#*control: }; clients $held"
echo "ctlabuse: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
