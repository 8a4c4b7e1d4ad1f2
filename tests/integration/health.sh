#!/bin/bash
# SPDX-License-Identifier: MIT
# Health-checked answers through the real PowerDNS: TCP and HTTP servers on 127.0.0.1-3 (a
# python3 process told what to do through one file per address) go down and up and report
# loads, and a state file is rewritten live. One down: its address leaves the answers, and
# the others still alternate exactly; back: it returns; all down: all are served (fail
# open), or none with "all_down": "none"; least-loaded follows the loads and alternates
# among equal ones; the state file decides, and a bad one is refused with FILE:LINE and the
# states kept; a reload keeps the state; pdynctl status shows each address and pdynctl
# query answers as the next question does. pdyndns runs in socket mode: one prober. Waits are for the daemon's log lines (bounded);
# how long detection took is printed, not judged.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
zone=$work/zone ctl=$work/srvctl
mkdir -p "$zone" "$ctl"
PT=$(free_port) PH=$(free_port) PS=$(free_port)
# a self-signed certificate for www.example.test: https with tls_verify false takes it,
# with the default (verified against the system's CAs) not
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 \
    -subj /CN=www.example.test -addext subjectAltName=DNS:www.example.test >/dev/null 2>&1 ||
    { echo "SKIP: openssl cannot make a certificate"; exit 77; }
printf '127.0.0.%d\n' 1 2 3 > "$zone/tcp.txt"
printf '127.0.0.%d\n' 1 2 3 > "$zone/web.txt"
printf '127.0.0.%d\n' 1 2 3 > "$zone/st.txt"
printf '127.0.0.%d\n' 1 2 > "$zone/tls.txt"
printf '::1\n' > "$zone/v6.txt"
printf '127.0.0.1 up\n127.0.0.2 up\n127.0.0.3 up\n' > "$zone/st-state.txt"
# what each server does: "tcp up|down" and "http STATUS BODY"
for i in 1 2 3; do printf 'tcp up\nhttp 200 load 5\n' > "$ctl/127.0.0.$i"; done
printf 'http 200 load 5\n' > "$ctl/::1"

cat > "$work/srv.py" <<'PY'
import http.server, os, socket, ssl, sys, threading, time
ctl, pt, ph, ps, certdir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
addrs = ["127.0.0.%d" % i for i in (1, 2, 3)]
def want(a):
    try:
        lines = open(os.path.join(ctl, a)).read().splitlines()
    except OSError:
        return {}
    return {l.split(" ", 1)[0]: l.split(" ", 1)[1] for l in lines if " " in l}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        w = want(self.server.server_address[0]).get("http", "200 ok").split(" ", 1)
        body = (w[1] if len(w) > 1 else "").encode() + b"\n"
        self.send_response(int(w[0]))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
for a in addrs:
    s = http.server.ThreadingHTTPServer((a, ph), H)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    t = http.server.ThreadingHTTPServer((a, ps), H)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(os.path.join(certdir, "cert.pem"), os.path.join(certdir, "key.pem"))
    t.socket = tls.wrap_socket(t.socket, server_side=True)
    threading.Thread(target=t.serve_forever, daemon=True).start()
class V6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
v6 = V6(("::1", ph), H)
threading.Thread(target=v6.serve_forever, daemon=True).start()
tcp = {}
def accept(s):
    while True:
        try:
            c, _ = s.accept()
            c.close()
        except OSError:
            return
print("ready", flush=True)
while True:  # the TCP listeners follow their files
    for a in addrs:
        up = want(a).get("tcp", "up") == "up"
        if up and a not in tcp:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((a, pt))
            s.listen(64)
            tcp[a] = s
            threading.Thread(target=accept, args=(s,), daemon=True).start()
        elif not up and a in tcp:
            s = tcp.pop(a)
            s.shutdown(socket.SHUT_RDWR)
            s.close()
    time.sleep(0.05)
PY
/usr/bin/python3 "$work/srv.py" "$ctl" "$PT" "$PH" "$PS" "$work" > "$work/srv.log" 2>&1 &
pdns_pids+=($!)
for _ in $(seq 100); do grep -q ready "$work/srv.log" && break; sleep 0.05; done

write_config() { # write_config TTL
    cat > "$zone/config.json" <<JSON
{
  "loglevel": "info",
  "domain": "dyn.example.test",
  "soa": "ns1.example.test. hostmaster.example.test. 2026120301 7200 3600 1209600 120",
  "nameservers": ["ns1.example.test"],
  "ttl": $1,
  "handlers": [
    {"qname": "tcp.dyn.example.test", "qtype": "A", "file": "tcp.txt",
     "health": {"check": "tcp", "port": $PT, "interval": 0.5, "timeout": 0.5, "rise": 2, "fall": 2}},
    {"qname": "none.dyn.example.test", "qtype": "A", "file": "tcp.txt",
     "health": {"check": "tcp", "port": $PT, "interval": 0.5, "timeout": 0.5, "rise": 2, "fall": 2,
                "all_down": "none"}},
    {"qname": "ll.dyn.example.test", "qtype": "A", "file": "web.txt", "policy": "least-loaded",
     "health": {"check": "http", "port": $PH, "path": "/load", "host": "www.example.test",
                "interval": 0.5, "timeout": 0.5, "rise": 1, "fall": 1}},
    {"qname": "st.dyn.example.test", "qtype": "A", "file": "st.txt",
     "health": {"check": "file", "file": "st-state.txt", "interval": 0.5, "timeout": 0.5, "rise": 1, "fall": 1}},
    {"qname": "tls.dyn.example.test", "qtype": "A", "file": "tls.txt", "policy": "least-loaded",
     "health": {"check": "https", "port": $PS, "host": "www.example.test", "tls_verify": false,
                "interval": 0.5, "timeout": 0.5, "rise": 1, "fall": 1}},
    {"qname": "verified.dyn.example.test", "qtype": "A", "file": "tls.txt",
     "health": {"check": "https", "port": $PS, "host": "www.example.test",
                "interval": 0.5, "timeout": 0.5, "rise": 1, "fall": 1}},
    {"qname": "v6.dyn.example.test", "qtype": "AAAA", "file": "v6.txt", "policy": "least-loaded",
     "health": {"check": "http", "port": $PH, "interval": 0.5, "timeout": 0.5, "rise": 1, "fall": 1}}
  ]
}
JSON
}
write_config 3600
# socket mode: one daemon, so one state and one rotation behind every answer
sock=$work/pipe.sock dpid=
start_socket_daemon || { fail "pdyndns --listen did not start"; cat "$work/daemon.log"; finish; }
PIPE_COMMAND=$sock start_pdns "$work/pdns" "$zone/config.json" 1 || { fail "start pdns"; finish; }
log=$work/daemon.log

# answers NAME N: the address of each of N questions, one a line
answers() { local i; for ((i = 0; i < $2; i++)); do q +short "$1" A | sort | tr '\n' ' ' | sed 's/ $//'; echo; done; }
set_srv() { printf '%s\n' "${@:2}" > "$ctl/$1"; }
# cycle "A B C" N: the N answers follow A B C ... in some rotation (each is one address)
is_cycle() {
    local want=($1) got=($2) n k off
    n=${#want[@]}
    for ((off = 0; off < n; off++)); do
        [ "${got[0]}" = "${want[off]}" ] || continue
        for ((k = 0; k < ${#got[@]}; k++)); do
            [ "${got[k]}" = "${want[(off + k) % n]}" ] || return 1
        done
        return 0
    done
    return 1
}

# --- all up: exact rotation ---------------------------------------------------------------
got=$(answers tcp.dyn.example.test 6 | tr '\n' ' ')
is_cycle "127.0.0.1 127.0.0.2 127.0.0.3" "$got" && ok || fail "all up: not a rotation of the three: $got"

# --- one down: gone, the others alternate exactly ------------------------------------------
t0=$(date +%s%N)
set_srv 127.0.0.2 'tcp down' 'http 200 load 5'
wait_log 'health: tcp.dyn.example.test A 127.0.0.2 is down' ||
    fail "127.0.0.2 never went down; log: $(grep health "$log" | tail -5)"
echo "  detection: $(( ($(date +%s%N) - t0) / 1000000 )) ms (interval 0.5 s x fall 2 + timeout 0.5 s = 1500 ms)"
expect_match "the transition says why" 'is down: connect: Connection refused \(2 bad checks in a row\); 2 of 3 up' \
    "$(grep 'tcp.dyn.example.test A 127.0.0.2 is down' "$log" | head -1)"
got=$(answers tcp.dyn.example.test 8 | tr '\n' ' ')
case $got in *127.0.0.2*) fail "one down: 127.0.0.2 still served: $got" ;; esac
is_cycle "127.0.0.1 127.0.0.3" "$got" && ok || fail "one down: the up ones do not alternate exactly: $got"

# status: each address's state
st=$("$PDYNCTL" --dir "$work/ctl" status --json)
h=$(jq -c '.copies[0].result.handlers[] | select(.qname == "tcp.dyn.example.test")' <<< "$st")
expect_eq "status: 127.0.0.2 down" "false" "$(jq -r '.health.addresses[] | select(.address == "127.0.0.2") | .up' <<< "$h")"
expect_eq "status: 127.0.0.1 up" "true" "$(jq -r '.health.addresses[] | select(.address == "127.0.0.1") | .up' <<< "$h")"
expect_eq "status: counts" "2 1" "$(jq -r '"\(.health.up) \(.health.down)"' <<< "$h")"
expect_match "status: the last result" 'Connection refused' \
    "$(jq -r '.health.addresses[] | select(.address == "127.0.0.2") | .last' <<< "$h")"
since2=$(jq -r '.health.addresses[] | select(.address == "127.0.0.2") | .since' <<< "$h")
text=$("$PDYNCTL" --dir "$work/ctl" status)
expect_match "status text: the address line" '127\.0\.0\.2 +down' "$text"
# pdynctl health: the one process probes; every checked list without an argument
text=$("$PDYNCTL" --dir "$work/ctl" health tcp.dyn.example.test A)
expect_match "health: socket mode: this process probes" "tcp\.dyn\.example\.test A: checked by this process \(pid $dpid\)" "$text"
expect_match "health: the down address" '127\.0\.0\.2 +down since .*, last: connect: Connection refused \([0-9.]+ ms\), next check in [0-9.]+ s' "$text"
expect_eq "health: every checked list" 7 "$("$PDYNCTL" --dir "$work/ctl" health | grep -c ': checked by this process')"
expect_eq "health --json: the role" single "$("$PDYNCTL" --dir "$work/ctl" --json health | jq -r '.copies[0].result.handlers[0].health.role')"
# status's next address, and query, answer exactly as the next question does
want=$("$PDYNCTL" --dir "$work/ctl" status --json tcp.dyn.example.test | jq -r '.copies[0].result.handlers[0].next_address')
expect_eq "status: the next address is the next answer" "$want" "$(q +short tcp.dyn.example.test A)"
want=$("$PDYNCTL" --dir "$work/ctl" query tcp.dyn.example.test A | grep -oE '127\.0\.0\.[0-9]+')
got=$(q +short tcp.dyn.example.test A)
expect_eq "query: as the next question" "$want" "$got"

# --- a reload keeps the state -----------------------------------------------------------------
write_config 3599
"$PDYNCTL" --dir "$work/ctl" reload >/dev/null || fail "reload refused"
got=$(answers tcp.dyn.example.test 4 | tr '\n' ' ')
case $got in *127.0.0.2*) fail "after a reload: 127.0.0.2 served again: $got" ;; *) ok ;; esac
st=$("$PDYNCTL" --dir "$work/ctl" status --json)
expect_eq "reload: the same since" "$since2" \
    "$(jq -r '.copies[0].result.handlers[] | select(.qname == "tcp.dyn.example.test") | .health.addresses[] | select(.address == "127.0.0.2") | .since' <<< "$st")"

# --- back after rise ---------------------------------------------------------------------------
set_srv 127.0.0.2 'tcp up' 'http 200 load 5'
wait_log 'health: tcp.dyn.example.test A 127.0.0.2 is up' || fail "127.0.0.2 never came back"
expect_match "up after rise" 'is up: connected \(2 good checks in a row\); 3 of 3 up' \
    "$(grep 'tcp.dyn.example.test A 127.0.0.2 is up' "$log" | head -1)"
got=$(answers tcp.dyn.example.test 6 | tr '\n' ' ')
is_cycle "127.0.0.1 127.0.0.2 127.0.0.3" "$got" && ok || fail "back: not a rotation of the three: $got"

# --- all down: all, or none ----------------------------------------------------------------------
for i in 1 2 3; do set_srv 127.0.0.$i 'tcp down' 'http 200 load 5'; done
wait_log 'health: none.dyn.example.test A 127.0.0.[0-9] is down: .*; 0 of 3 up; all down: answering none' ||
    fail "all down never said"
wait_log 'health: tcp.dyn.example.test A 127.0.0.[0-9] is down: .*; 0 of 3 up; all down: answering all of them' ||
    fail "all down (fail open) never said"
got=$(answers tcp.dyn.example.test 6 | tr '\n' ' ')
is_cycle "127.0.0.1 127.0.0.2 127.0.0.3" "$got" && ok || fail "all down: not all served: $got"
expect_eq "all down, all_down none: no address" "" "$(q +short none.dyn.example.test A)"
for i in 1 2 3; do set_srv 127.0.0.$i 'tcp up' 'http 200 load 5'; done

# --- least-loaded ---------------------------------------------------------------------------------
set_srv 127.0.0.1 'tcp up' 'http 200 load 5'
set_srv 127.0.0.2 'tcp up' 'http 200 {"load": 1.5}'
set_srv 127.0.0.3 'tcp up' 'http 200 load 1.5 (of 8 cores)'
ll_settled() { # ll_settled WANT-CYCLE: the answers settle into it within 15 s
    local i got
    for ((i = 0; i < 60; i++)); do
        got=$(answers ll.dyn.example.test 4 | tr '\n' ' ')
        is_cycle "$1" "$got" && return 0
        sleep 0.25
    done
    echo "  last answers: $got" >&2
    return 1
}
ll_settled "127.0.0.2 127.0.0.3" && ok || fail "least-loaded: the two of load 1.5 do not alternate"
got=$(answers ll.dyn.example.test 6 | tr '\n' ' ')
is_cycle "127.0.0.2 127.0.0.3" "$got" && ok || fail "least-loaded: equal loads do not alternate exactly: $got"
set_srv 127.0.0.1 'tcp up' 'http 200 load 0.25'
ll_settled "127.0.0.1" && ok || fail "least-loaded: does not follow the load to 127.0.0.1"
# the least loaded fails its check: the next ones
set_srv 127.0.0.1 'tcp up' 'http 503 load 0'
wait_log 'health: ll.dyn.example.test A 127.0.0.1 is down: HTTP 503' || fail "an HTTP 503 is not down"
got=$(answers ll.dyn.example.test 4 | tr '\n' ' ')
is_cycle "127.0.0.2 127.0.0.3" "$got" && ok || fail "least-loaded: a down one still served: $got"

# --- the state file ------------------------------------------------------------------------------------
printf '127.0.0.1 up\n127.0.0.2 down\n127.0.0.3 up\n' > "$zone/st-state.txt.new"
mv "$zone/st-state.txt.new" "$zone/st-state.txt"
wait_log 'health: st.dyn.example.test A 127.0.0.2 is down: state file: down' || fail "state file: no down"
got=$(answers st.dyn.example.test 6 | tr '\n' ' ')
is_cycle "127.0.0.1 127.0.0.3" "$got" && ok || fail "state file: 127.0.0.2 still served: $got"
# rewritten in place, a bad line: refused whole, with FILE:LINE, the states kept
printf '127.0.0.1 down\n127.0.0.9 up\n127.0.0.2 up\n' > "$zone/st-state.txt"
wait_log "st-state.txt:2: error: 127.0.0.9 is not an address of the list" || fail "state file: bad line not said"
expect_match "state file: what was kept" 'st-state.txt: state file not taken; st.dyn.example.test A keeps the states it had' \
    "$(grep 'state file not taken' "$log" | head -1)"
got=$(answers st.dyn.example.test 4 | tr '\n' ' ')
is_cycle "127.0.0.1 127.0.0.3" "$got" && ok || fail "state file: a bad file changed the answers: $got"
printf '127.0.0.1 down\n127.0.0.2 up\n' > "$zone/st-state.txt"
wait_log 'health: st.dyn.example.test A 127.0.0.1 is down: state file: down' || fail "state file: fixed file not taken"
wait_log 'state file taken again' || fail "state file: its recovery not said"
got=$(answers st.dyn.example.test 4 | tr '\n' ' ')
is_cycle "127.0.0.2 127.0.0.3" "$got" && ok || fail "state file: the fixed file does not decide: $got"

# --- https, and ::1 ----------------------------------------------------------------------------------
# a certificate the system does not trust: down with tls_verify (the default), up without
set_srv 127.0.0.1 'tcp up' 'http 200 load 1.5'
wait_log 'health: tls.dyn.example.test A 127.0.0.1 is up: HTTP 200' || fail "https: 127.0.0.1 never back"
wait_log 'health: verified.dyn.example.test A 127.0.0.2 is down: .*(certificate|SSL)' ||
    fail "https: an untrusted certificate is not down"
st=$("$PDYNCTL" --dir "$work/ctl" status --json)
expect_eq "https without tls_verify: both up" "2 0" \
    "$(jq -r '.copies[0].result.handlers[] | select(.qname == "tls.dyn.example.test") | "\(.health.up) \(.health.down)"' <<< "$st")"
expect_eq "https: the bodies' loads" "1.5 1.5" \
    "$(jq -r '[.copies[0].result.handlers[] | select(.qname == "tls.dyn.example.test") | .health.addresses[].load] | join(" ")' <<< "$st")"
expect_match "https: the status code" '^HTTP 200$' \
    "$(jq -r '.copies[0].result.handlers[] | select(.qname == "tls.dyn.example.test") | .health.addresses[0].last' <<< "$st")"
expect_match "http over ::1: checked, with its load" '^HTTP 200 5$' \
    "$(jq -r '.copies[0].result.handlers[] | select(.qname == "v6.dyn.example.test") | .health.addresses[0] | "\(.last) \(.load)"' <<< "$st")"

# flapping: 127.0.0.2 of tcp.dyn changed 4 times within a minute; the 4th says so
wait_log 'health: tcp.dyn.example.test A 127.0.0.2 is up: .*; it flaps: its next changes this minute are not logged' ||
    fail "flapping not said"
expect_eq "flapping: 4 lines for one address" 4 "$(grep -c 'health: tcp.dyn.example.test A 127.0.0.2 is' "$log")"

finish
