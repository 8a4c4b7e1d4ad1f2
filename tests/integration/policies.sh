#!/bin/bash
# SPDX-License-Identifier: MIT
# Selection policies through the real PowerDNS: weighted over 10,000 questions matches the
# weights within 2 % and never serves weight 0 (also with --shared-rotation and three
# copies); all returns the whole list; count 3 returns the windows in order and wraps;
# random stays inside its list and covers it, with distinct addresses per answer; a list
# whose weights are all 0 answers like a list that serves nothing; pdynctl status shows
# policy, count, total weight and drained addresses. Questions go out from a python3
# socket-level client, one after the other (dig per question would take minutes).
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
zone=$work/zone
mkdir -p "$zone"
printf '# weighted\n192.0.2.1 5\n192.0.2.2 3\n192.0.2.3   2 # light\n192.0.2.4 0 # drained\n' > "$zone/w.txt"
printf '2001:db8::%d 1\n' 1 2 3 > "$zone/w6.txt"; printf '2001:db8::4\n2001:db8::5 0\n' >> "$zone/w6.txt"
printf '198.51.100.%d\n' 1 2 3 4 5 6 > "$zone/all.txt"
printf '203.0.113.%d\n' 1 2 3 4 5 6 7 > "$zone/c3.txt"
printf '192.0.2.%d\n' 101 102 103 104 105 106 107 108 > "$zone/rnd.txt"
printf '2001:db8:7::%d\n' 1 2 3 4 5 > "$zone/rnd6.txt"
printf '192.0.2.201 0\n192.0.2.202 0\n' > "$zone/zero.txt"
printf '# nothing\n' > "$zone/empty.txt"
cat > "$zone/config.json" <<JSON
{
  "domain": "dyn.example.test",
  "soa": "ns1.example.test. hostmaster.example.test. 2026112201 7200 3600 1209600 120",
  "nameservers": ["ns1.example.test"],
  "ttl": 3600,
  "handlers": [
    {"qname": "w.dyn.example.test", "qtype": "A", "file": "w.txt", "policy": "weighted"},
    {"qname": "w.dyn.example.test", "qtype": "AAAA", "file": "w6.txt", "policy": "weighted", "count": 2},
    {"qname": "all.dyn.example.test", "qtype": "A", "file": "all.txt", "policy": "all", "count": 2},
    {"qname": "c3.dyn.example.test", "qtype": "A", "file": "c3.txt", "count": 3},
    {"qname": "rnd.dyn.example.test", "qtype": "A", "file": "rnd.txt", "policy": "random"},
    {"qname": "rnd.dyn.example.test", "qtype": "AAAA", "file": "rnd6.txt", "policy": "random", "count": 3},
    {"qname": "zero.dyn.example.test", "qtype": "A", "file": "zero.txt", "policy": "weighted"},
    {"qname": "empty.dyn.example.test", "qtype": "A", "file": "empty.txt"}
  ]
}
JSON

# ask NAME TYPE N: N questions one after the other over UDP; one line per answer: the rcode
# and the addresses of the answer section, sorted (PowerDNS shuffles records).
ask() {
    /usr/bin/python3 - "$PORT" "$@" <<'PY'
import random, socket, struct, sys
port, name, qtype, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
t = {"A": 1, "AAAA": 28}[qtype]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
qname = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
rcodes = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}
out = []
def skip_name(m, o):
    while True:
        l = m[o]
        if l >= 0xc0:
            return o + 2
        if l == 0:
            return o + 1
        o += l + 1
for _ in range(n):
    qid = random.getrandbits(16)
    s.sendto(struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", t, 1), ("127.0.0.1", port))
    while True:
        m, _ = s.recvfrom(65535)
        if struct.unpack(">H", m[:2])[0] == qid:
            break
    flags, qd, an = struct.unpack(">HHH", m[2:8])
    o = 12
    for _ in range(qd):
        o = skip_name(m, o) + 4
    addrs = []
    for _ in range(an):
        o = skip_name(m, o)
        rt, _, _, rl = struct.unpack(">HHIH", m[o:o + 10])
        o += 10
        if rt == t:
            addrs.append(m[o:o + rl])
        o += rl
    fam = socket.AF_INET if t == 1 else socket.AF_INET6
    out.append("%s %s" % (rcodes.get(flags & 15, str(flags & 15)),
                          ",".join(socket.inet_ntop(fam, a) for a in sorted(addrs))))
print("\n".join(out))
PY
}
# shares: "address=count" for every address in the answers on stdin, by address
shares() { cut -d' ' -f2 | tr ',' '\n' | grep . | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' '; }
# within_2pct TAG N "ADDR=WEIGHT..." "ADDR=COUNT...": every share within 2 % of its weight's
within_2pct() {
    local tag=$1 n=$2 want=$3 got=$4
    /usr/bin/python3 - "$n" "$want" "$got" <<'PY' && ok || fail "$tag: shares $got, weights $want"
import sys
n = int(sys.argv[1])
want = dict(kv.split("=") for kv in sys.argv[2].split())
got = dict(kv.split("=") for kv in sys.argv[3].split())
total = sum(int(w) for w in want.values())
bad = [a for a in got if a not in want]
lines = []
for a, w in want.items():
    share, target = int(got.get(a, 0)) / n, int(w) / total
    lines.append("  %s: weight %s, want %.4f, got %.4f" % (a, w, target, share))
    if abs(share - target) > 0.02 or (int(w) == 0 and a in got):
        bad.append(a)
if bad:
    print("\n".join(lines))
sys.exit(1 if bad else 0)
PY
}

check_policies() {
    local tag=$1 got want i
    # weighted 5:3:2:0 over 10,000 questions
    got=$(ask w.dyn.example.test A 10000)
    expect_eq "$tag: weighted: 10,000 answers of one address" 10000 "$(echo "$got" | grep -c '^NOERROR [0-9.]*$')"
    within_2pct "$tag: weighted 5:3:2:0 over 10,000 questions" 10000 \
        "192.0.2.1=5 192.0.2.2=3 192.0.2.3=2 192.0.2.4=0" "$(echo "$got" | shares)"
    expect_eq "$tag: weighted: the drained address never" 0 "$(echo "$got" | grep -c '192\.0\.2\.4')"
    # weighted count 2 over 1:1:1:1:0 (AAAA): two different addresses, never the drained one
    got=$(ask w.dyn.example.test AAAA 400)
    expect_eq "$tag: weighted count 2: two distinct addresses per answer" 400 \
        "$(echo "$got" | grep -cE '^NOERROR 2001:db8::[1-4],2001:db8::[1-4]$')"
    expect_eq "$tag: weighted count 2: never the drained one" 0 "$(echo "$got" | grep -c '2001:db8::5')"
    within_2pct "$tag: weighted count 2: 1:1:1:1:0" 800 \
        "2001:db8::1=1 2001:db8::2=1 2001:db8::3=1 2001:db8::4=1 2001:db8::5=0" "$(echo "$got" | shares)"

    # all: the whole list every time (count ignored)
    want=$(for i in $(seq 5); do echo "NOERROR 198.51.100.1,198.51.100.2,198.51.100.3,198.51.100.4,198.51.100.5,198.51.100.6"; done)
    expect_eq "$tag: all: the full set" "$want" "$(ask all.dyn.example.test A 5)"

    # count 3 over 7: windows from the rotation position, wrapping, in order
    want="NOERROR 203.0.113.1,203.0.113.2,203.0.113.3
NOERROR 203.0.113.4,203.0.113.5,203.0.113.6
NOERROR 203.0.113.1,203.0.113.2,203.0.113.7
NOERROR 203.0.113.3,203.0.113.4,203.0.113.5
NOERROR 203.0.113.1,203.0.113.6,203.0.113.7
NOERROR 203.0.113.2,203.0.113.3,203.0.113.4
NOERROR 203.0.113.5,203.0.113.6,203.0.113.7
NOERROR 203.0.113.1,203.0.113.2,203.0.113.3"
    expect_eq "$tag: count 3 over 7: windows in order, wrapping" "$want" "$(ask c3.dyn.example.test A 8)"

    # random: inside the list, covering it; count 3: three distinct addresses
    got=$(ask rnd.dyn.example.test A 400)
    expect_eq "$tag: random: every answer one address of the list" 400 "$(echo "$got" | grep -cE '^NOERROR 192\.0\.2\.10[1-8]$')"
    expect_eq "$tag: random: covers the list" 8 "$(echo "$got" | sort -u | wc -l)"
    got=$(ask rnd.dyn.example.test AAAA 200)
    expect_eq "$tag: random count 3: three addresses of the list" 200 \
        "$(echo "$got" | grep -cE '^NOERROR 2001:db8:7::[1-5],2001:db8:7::[1-5],2001:db8:7::[1-5]$')"
    expect_eq "$tag: random count 3: distinct" 0 \
        "$(echo "$got" | cut -d' ' -f2 | awk -F, '$1 == $2 || $2 == $3 || $1 == $3' | wc -l)"
    expect_eq "$tag: random count 3: covers the list" 5 "$(echo "$got" | shares | wc -w)"

    # every weight 0: no address, the same answer as a list that serves nothing
    expect_eq "$tag: all weights 0 answers like an empty list" "$(ask empty.dyn.example.test A 1)" \
        "$(ask zero.dyn.example.test A 1)"
    expect_eq "$tag: all weights 0: no address" "" "$(ask zero.dyn.example.test A 1 | cut -d' ' -f2)"
}

dir=$work/pdns
start_pdns "$dir" "$zone/config.json" 3 || { fail "start"; finish; }
check_policies "coprocess"
expect_match "the all-0 list is warned about at load" \
    'warning: .*zero.txt: warning: every address has weight 0: zero.dyn.example.test A serves nothing' \
    "$(cat "$dir/pdns.log")"

# status shows the policies
ctl() { "$PDYNCTL" --dir "$dir/ctl" "$@"; }
for _ in $(seq 50); do [ "$(ctl --json list 2>/dev/null | jq '.copies | length')" -ge 2 ] && break; sleep 0.1; done
out=$(ctl status)
expect_match "status: the policy column" 'QNAME +TYPE +POLICY +ADDRESSES' "$out"
expect_match "status: weighted" 'w\.dyn\.example\.test +A +weighted +4 ' "$out"
expect_match "status: weighted count 2" 'w\.dyn\.example\.test +AAAA +weighted/2 +5 ' "$out"
expect_match "status: total weight and drained" 'weights: total 10, 1 drained: 192\.0\.2\.1=5 192\.0\.2\.2=3 192\.0\.2\.3=2 192\.0\.2\.4=0' "$out"
expect_match "status: count" 'c3\.dyn\.example\.test +A +round-robin/3 +7 ' "$out"
expect_match "status: all" 'all\.dyn\.example\.test +A +all +6 ' "$out"
expect_match "status: random" 'rnd\.dyn\.example\.test +AAAA +random/3 +5 ' "$out"
# (the 400 AAAA questions at w moved its A list too: a question moves every list of its name)
json=$(ctl --json status | jq -c '[.copies[].result.handlers[] | select(.qname == "w.dyn.example.test" and .qtype == "A")
    | {policy, count, total_weight, drained, answers}] | max_by(.answers)')
expect_eq "status --json: weighted" '{"policy":"weighted","count":1,"total_weight":10,"drained":1,"answers":10400}' "$json"
json=$(ctl --json status | jq -c '[.copies[].result.handlers[] | select(.qname == "c3.dyn.example.test")
    | {policy, count, answers}] | max_by(.answers)')
expect_eq "status --json: count 3" '{"policy":"round-robin","count":3,"answers":8}' "$json"
stop_pid "$PDNS_PID"

# --shared-rotation with three copies: the counters are shared, the schedule exact
dir=$work/shared
PIPE_COMMAND="$PDYNDNS --config $zone/config.json --control-dir $dir/ctl --shared-rotation" \
    start_pdns "$dir" "$zone/config.json" 3 "distributor-threads=3" || { fail "start shared"; finish; }
check_policies "shared rotation, 3 copies"
stop_pid "$PDNS_PID"
finish
