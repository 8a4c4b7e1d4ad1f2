#!/bin/bash
# SPDX-License-Identifier: MIT
# The HTTP endpoint (--metrics-listen) against bad requests, with PowerDNS asking questions
# of the same daemon in socket mode: a 1 MiB header, a request sent a byte a second
# (slowloris), 1,000 connections at once, methods other than GET and HEAD, other paths. Each
# gets a clean error (or the connection closed) and a closed connection, the connection limit
# holds, the questions are answered throughout, a scrape works afterwards, and the daemon's
# descriptors and memory come back. Then the start-up errors: a port in use, bad ADDR:PORTs,
# --metrics-listen without socket mode.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
MAX_CONNS=64 # HTTPMETRICS_MAX_CONNS
IDLE=10      # HTTPMETRICS_TIMEOUT_SEC

start_metrics_zone
url=http://127.0.0.1:$mport/metrics

# answered LABEL: a question through pdns gets one of t1's addresses
answered() {
    local got
    got=$(q +short t1.dyn.example.test A)
    expect_match "$1: the question is answered" '^192\.0\.2\.[1-5]$' "$got"
}
fds() { ls /proc/"$dpid"/fd 2>/dev/null | wc -l; }
rss() { awk '/^VmRSS:/ { print $2 }' /proc/"$dpid"/status; }

code=$(curl -sS --max-time 5 -D "$work/head.txt" -o "$work/scrape.txt" -w '%{http_code}' "$url")
expect_eq "GET /metrics: 200" 200 "$code"
expect_eq "the Content-Type of the text format 0.0.4" "text/plain; version=0.0.4; charset=utf-8" \
    "$(sed -n 's/^Content-Type: \(.*\)\r$/\1/Ip' "$work/head.txt")"
grep -q '^pdyndns_addresses{name="t1.dyn.example.test",qtype="A",view=""} 5$' "$work/scrape.txt" && ok ||
    fail "the scrape lacks t1's address count: $(head -c 600 "$work/scrape.txt")"
expect_eq "HEAD /metrics: 200, no body" "200 0" \
    "$(curl -sS --max-time 5 -I -o /dev/null -w '%{http_code} %{size_download}' "$url")"
answered "after the first scrapes"
fd0=$(fds) rss0=$(rss)

cat > "$work/http.py" <<'PY'
import os, select, socket, subprocess, sys, time
port = int(sys.argv[2])

def connect():
    return socket.create_connection(("127.0.0.1", port), timeout=5)

def read_all(s, limit=10.0):
    """What the server sends until it closes: (bytes, how it ended)"""
    data, end = b"", "open"
    s.settimeout(limit)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                end = "closed"; break
            data += d
    except socket.timeout:
        end = "open"
    except ConnectionResetError:
        end = "closed"
    return data, end

def status(data):
    line = data.split(b"\r\n", 1)[0].decode(errors="replace")
    return line.split(" ")[1] if line.startswith("HTTP/") and " " in line else "none"

def header(data, name):
    for l in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        k, _, v = l.partition(b":")
        if k.strip().lower() == name.lower().encode():
            return v.strip().decode()
    return "-"

cmd = sys.argv[1]
if cmd == "method":  # METHOD PATH [BODY]: status, Allow, whether the connection closed
    method, path = sys.argv[3], sys.argv[4]
    body = sys.argv[5].encode() if len(sys.argv) > 5 else b""
    s = connect()
    req = b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % (method.encode(), path.encode())
    if body:
        req += b"Content-Length: %d\r\n" % len(body)
    s.sendall(req + b"\r\n" + body)
    data, end = read_all(s)
    print(status(data), header(data, "Allow").replace(" ", ""), end)
elif cmd == "bighead":  # a 1 MiB header: the status (if any) and whether it closed
    s = connect()
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
    sent, chunk = 0, b"a" * 16384
    try:
        while sent < 1 << 20:
            r, w, _ = select.select([s], [s], [], 10)
            if r:
                break  # the server answered (or closed) before the header ended
            if w:
                sent += s.send(chunk)
        else:
            s.sendall(b"\r\n\r\n")
    except OSError:
        pass
    data, end = read_all(s)
    print(status(data), end)
elif cmd == "slow":  # a byte a second: closed before the request is whole?
    s = connect()
    req = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 40 + b"\r\n\r\n"
    end = "complete"
    for i, b in enumerate(req):
        try:
            s.send(bytes([b]))
            s.settimeout(1.0)
            if s.recv(4096) == b"":
                end = "closed"; break
        except socket.timeout:
            continue
        except OSError:
            end = "closed"; break
    print(end, i, len(req))
elif cmd == "many":  # N DPID DIG-ARGS...: N connections at once
    n, dpid, dig = int(sys.argv[3]), sys.argv[4], sys.argv[5:]
    conns = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        conns.append(s)
    time.sleep(2)
    held = 0  # not closed by the server
    for s in conns:
        try:
            held += 1 if s.recv(1) else 0
        except BlockingIOError:
            held += 1  # open, nothing said: the server holds it
        except OSError:
            pass
    daemon_sockets = sum(1 for f in os.listdir("/proc/%s/fd" % dpid)
                         if os.readlink("/proc/%s/fd/%s" % (dpid, f)).startswith("socket:"))
    answer = subprocess.run(dig, capture_output=True, text=True, timeout=10).stdout.strip()
    for s in conns:
        s.close()
    print(held, daemon_sockets, answer or "none")
PY
http() { timeout 60 python3 "$work/http.py" "$1" "$mport" "${@:2}"; }

for m in POST PUT DELETE PATCH; do
    expect_eq "$m /metrics: 405 with Allow, the connection closed" "405 GET,HEAD closed" "$(http method "$m" /metrics x=1)"
done
expect_eq "GET /other: 404, the connection closed" "404 - closed" "$(http method GET /other)"
expect_eq "GET /: 404, the connection closed" "404 - closed" "$(http method GET /)"
answered "after the bad methods and paths"

read -r st end <<< "$(http bighead)"
[[ "$st" =~ ^4[0-9][0-9]$ ]] && ok || fail "a 1 MiB header: expected a 4xx status, got '$st'"
expect_eq "a 1 MiB header: the connection closed" closed "$end"
answered "after the 1 MiB header"

# slowloris: closed (after IDLE seconds) well before the 92 bytes of its request are sent
read -r end at total <<< "$(http slow)"
expect_eq "a byte a second: closed before the request is whole" closed "$end"
[ "${at:-99}" -le $((IDLE + 5)) ] && ok || fail "a byte a second: closed after $at of $total bytes (limit ${IDLE} s)"
answered "after the slow request"

read -r held sockets answer <<< "$(http many 1000 "$dpid" "$DIG" +short +time=2 +tries=1 @127.0.0.1 -p "$PORT" t1.dyn.example.test A)"
# (open on the client's side also counts those still in the kernel's accept queue)
echo "  1000 connections: $held open on the client's side, $sockets sockets in the daemon; a question meanwhile: $answer"
[ "${sockets:-9999}" -le $((MAX_CONNS + 10)) ] && ok || fail "1000 connections: $sockets sockets in the daemon (limit $MAX_CONNS + its own)"
expect_match "1000 connections: a question meanwhile is answered" '^192\.0\.2\.[1-5]$' "$answer"
answered "after the 1000 connections"

# a later scrape works, and what the bad requests took is given back
for _ in $(seq 50); do
    code=$(curl -sS --max-time 5 -o "$work/scrape2.txt" -w '%{http_code}' "$url")
    [ "$code" = 200 ] && break
    sleep 0.2
done
expect_eq "a scrape after the bad requests: 200" 200 "$code"
grep -q '^pdyndns_addresses{name="t1.dyn.example.test",qtype="A",view=""} 5$' "$work/scrape2.txt" && ok || fail "the later scrape is incomplete"
for _ in $(seq 150); do [ "$(fds)" -le "$fd0" ] && break; sleep 0.1; done
expect_eq "descriptors back to where they were" "$fd0" "$(fds)"
rss1=$(rss)
# (a sanitizer build keeps freed memory in quarantine: its RSS says nothing of a leak, which
# LeakSanitizer reports at exit instead, as tests/extremes.sh does)
grep -q __asan_init "$PDYNDNS" && sanitized=1 || sanitized=
echo "  RSS: $rss0 kB before the bad requests, $rss1 kB after${sanitized:+ (not judged under sanitizers)}"
[ -n "$sanitized" ] || [ "$rss1" -le $((rss0 + 4096)) ] && ok || fail "RSS grew from $rss0 kB to $rss1 kB"

# A large config (3,000 handlers: a build of many steps) scraped while reloads apply new
# generations: every scrape is whole and valid (a build cut by a reload starts again), and
# questions are answered meanwhile.
mkdir -p "$work/big"
printf '10.1.0.1\n10.1.0.2\n' > "$work/big/a.txt"
python3 - "$work/big/config.json" <<'PY'
import json, sys
h = [{"qname": "n%d.dyn.example.test" % i, "qtype": "A", "file": "a.txt"} for i in range(3000)]
json.dump({"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
           "nameservers": ["ns1.example.test"], "ttl": 60, "handlers": h}, open(sys.argv[1], "w"))
PY
bport=$(free_port)
"$PDYNDNS" --config "$work/big/config.json" --control-dir "$work/bigctl" --listen "$work/big.sock" \
    --metrics-listen "127.0.0.1:$bport" 2>> "$work/big.log" &
big=$!
pdns_pids+=("$big")
for _ in $(seq 100); do grep -q 'serving the pipe protocol' "$work/big.log" && break; sleep 0.1; done
whole=0
for i in 1 2 3 4 5; do
    curl -sS --max-time 20 -o "$work/big$i.txt" "http://127.0.0.1:$bport/metrics" &
    c=$!
    "$PDYNCTL" --dir "$work/bigctl" reload > /dev/null 2>&1
    wait "$c"
    [ "$(grep -c '^pdyndns_addresses{' "$work/big$i.txt")" = 3000 ] && grep -q '^pdyndns_copies 1$' "$work/big$i.txt" &&
        whole=$((whole + 1))
done
expect_eq "scrapes of 3,000 handlers during reloads: whole" 5 "$whole"
if command -v promtool >/dev/null; then
    promtool check metrics < "$work/big5.txt" > "$work/big-promtool.out" 2>&1 && ok ||
        fail "promtool check metrics: $(head -5 "$work/big-promtool.out")"
fi
stop_pid "$big"

# start-up errors: clear, exit 1, nothing left behind
startup() { # ADDR: exit status and the error line
    local out rc
    out=$(timeout 20 "$PDYNDNS" --config "$work/zone/config.json" --control-dir "$work/ctl2" \
        --listen "$work/other.sock" --metrics-listen "$1" 2>&1 >/dev/null)
    rc=$?
    echo "$rc $(grep -m1 'metrics' <<< "$out" | sed 's/^pdyndns\[[0-9]*\]: //')"
}
expect_eq "a port in use" "1 error: --metrics-listen: cannot listen on 127.0.0.1:$mport: Address already in use" "$(startup "127.0.0.1:$mport")"
[ -e "$work/other.sock" ] && fail "a port in use: the pipe socket was left behind" || ok
expect_eq "no port" "1 error: --metrics-listen: \"127.0.0.1\" is not ADDR:PORT (127.0.0.1:9153 or [::1]:9153)" "$(startup 127.0.0.1)"
expect_eq "port 0" "1 error: --metrics-listen: \"127.0.0.1:0\": \"0\" is not a port (1 to 65535)" "$(startup 127.0.0.1:0)"
expect_eq "port 70000" "1 error: --metrics-listen: \"127.0.0.1:70000\": \"70000\" is not a port (1 to 65535)" "$(startup 127.0.0.1:70000)"
expect_eq "a name" "1 error: --metrics-listen: \"localhost:9153\": \"localhost\" is not an IPv4 address (an IPv6 address goes in brackets: [::1]:9153)" "$(startup localhost:9153)"
expect_eq "IPv6 without brackets" "1 error: --metrics-listen: \"::1:9153\": \"::1\" is not an IPv4 address (an IPv6 address goes in brackets: [::1]:9153)" "$(startup ::1:9153)"
expect_eq "a bad IPv6 address" "1 error: --metrics-listen: \"[::g]:9153\": \"::g\" is not an IPv6 address" "$(startup '[::g]:9153')"
out=$("$PDYNDNS" --config "$work/zone/config.json" --metrics-listen "127.0.0.1:$mport" 2>&1 </dev/null)
expect_eq "without socket mode: a usage error" 2 $?
expect_match "without socket mode: says why" 'goes with --listen' "$out"
# the socket from systemd (pdyndns-metrics.socket names it "metrics"), beside the pipe socket:
# the first connection starts pdyndns, which serves it
if command -v systemd-socket-activate >/dev/null; then
    ap=$(free_port)
    systemd-socket-activate -l "$work/act.sock" -l "127.0.0.1:$ap" --fdname=pipe:metrics \
        "$PDYNDNS" --config "$work/zone/config.json" --control-dir "$work/ctla" 2> "$work/act.log" &
    pdns_pids+=($!)
    for _ in $(seq 50); do [ -S "$work/act.sock" ] && break; sleep 0.1; done
    code=$(curl -sS --max-time 10 -o "$work/act.txt" -w '%{http_code}' "http://127.0.0.1:$ap/metrics")
    expect_eq "the metrics socket from systemd: a scrape" 200 "$code"
    grep -q '^pdyndns_addresses{name="t1.dyn.example.test",qtype="A",view=""} 5$' "$work/act.txt" && ok ||
        fail "the metrics socket from systemd: the scrape is incomplete; the daemon said: $(cat "$work/act.log")"
    stop_pid "${pdns_pids[-1]}"
fi
# IPv6, where the loopback has it
if grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then
    p6=$(free_port)
    "$PDYNDNS" --config "$work/zone/config.json" --control-dir "$work/ctl6" --listen "$work/v6.sock" \
        --metrics-listen "[::1]:$p6" 2>> "$work/v6.log" &
    v6=$!
    pdns_pids+=("$v6")
    for _ in $(seq 50); do code=$(curl -sS -g --max-time 5 -o /dev/null -w '%{http_code}' "http://[::1]:$p6/metrics" 2>/dev/null); [ "$code" = 200 ] && break; sleep 0.1; done
    expect_eq "[::1]:PORT: a scrape" 200 "$code"
    stop_pid "$v6"
fi
answered "at the end"
finish
