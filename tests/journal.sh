#!/bin/bash
# SPDX-License-Identifier: MIT
# Logging to the journal: when stderr is the stream JOURNAL_STREAM names (as systemd sets it
# up), each message becomes a journal record of its own on the journal's socket (here a
# stand-in, PDYNDNS_JOURNAL_SOCKET) with PRIORITY, MESSAGE and the fields of what it is
# about: PDYNDNS_FILE, PDYNDNS_LINE, PDYNDNS_HANDLER, PDYNDNS_GENERATION. Nothing then goes
# to the stream itself. Fields arrive whole: a path near PATH_MAX, a 253-byte name, a path
# with a newline (the protocol's length framing). Without JOURNAL_STREAM, or when it names
# another file, stderr gets lines.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
. "$(dirname "$0")/assert.sh" # passes, fails, ok, fail, expect_eq, expect_match
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
printf '10.0.0.1\n10.0.0.2\n' > v4.txt
cat > config.json <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60,
 "handlers": [{"qname": "t1.dyn.example.test", "qtype": "A", "file": "v4.txt"}]}
JSON

# parse(datagram): the fields of one record of the journal's native protocol
cat > parse.py <<'PY'
import struct
def parse(d):
    r, i = {}, 0
    while i < len(d):
        eq, nl = d.find(b"=", i), d.find(b"\n", i)
        assert nl >= 0, "a field without its newline: %r" % d[i:i + 60]
        if eq >= 0 and eq < nl:                  # NAME=value\n
            r[d[i:eq].decode()] = d[eq + 1:nl].decode(); i = nl + 1
        else:                                    # NAME\n, 64-bit LE length, value, \n
            n = struct.unpack("<Q", d[nl + 1:nl + 9])[0]
            assert d[nl + 9 + n:nl + 10 + n] == b"\n", "no newline after a binary field"
            r[d[i:nl].decode()] = d[nl + 9:nl + 9 + n].decode()
            i = nl + 10 + n
    return r
PY

out=$(python3 - "$PDYNDNS" "$tmp" <<'PY'
import os, socket, subprocess, sys, time
exe, tmp = sys.argv[1], sys.argv[2]
sys.path.insert(0, tmp); from parse import parse
journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
journal.bind(tmp + "/journal.sock"); journal.settimeout(5)
stream, ours = socket.socketpair()          # stderr: the journal's stream stand-in
st = os.fstat(ours.fileno())
env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino),
           PDYNDNS_JOURNAL_SOCKET=tmp + "/journal.sock")
p = subprocess.Popen([exe, "--config", tmp + "/config.json", "--control-dir", tmp + "/ctl"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=ours, env=env, cwd=tmp)
ours.close()
def records(until, limit=20):
    got = []
    for _ in range(limit):
        r = parse(journal.recv(65536))
        got.append(r)
        if until in r.get("MESSAGE", ""): return got
    return got
first = records("zone dyn.example.test")
time.sleep(0.3)
with open(tmp + "/v4.new", "w") as f: f.write("10.0.0.3\n10.0.0.\n")
os.rename(tmp + "/v4.new", tmp + "/v4.txt")
recs = records("generation 2 applied")
p.stdin.close(); p.wait(timeout=5)
stream.setblocking(False)
try: leaked = stream.recv(65536)
except BlockingIOError: leaked = b""
bad = next(r for r in recs if "is not an IPv4 address" in r["MESSAGE"])
keep = next(r for r in recs if "keeping the previous list" in r["MESSAGE"])
applied = next(r for r in recs if "generation 2 applied" in r["MESSAGE"])
print("bad", bad["PRIORITY"], bad["PDYNDNS_FILE"] == tmp + "/v4.txt", bad["PDYNDNS_LINE"],
      bad["SYSLOG_IDENTIFIER"], bad["SYSLOG_PID"] == str(p.pid))
print("keep", keep["PDYNDNS_HANDLER"].replace(" ", "_"), keep.get("PDYNDNS_LINE", "-"))
print("applied", applied["PRIORITY"], applied["PDYNDNS_GENERATION"], first[0]["PDYNDNS_GENERATION"] in ("0", "1"))
print("stream", len(leaked), "exit", p.returncode)
PY
)
echo "$out"
expect() { if grep -qx "$1" <<< "$out"; then passes=$((passes + 1)); else fail "expected the line: $1"; fi; }
expect "bad 3 True 2 pdyndns True"
expect "keep t1.dyn.example.test_A -"
expect "applied 6 2 True"
expect "stream 0 exit 0"

# Long fields: a list file whose path is near PATH_MAX (4,096), for a 253-byte name, and one
# in a directory with a newline in its name; both get a bad line at a reload. Every field
# arrives whole (the copy built the record in a fixed 4,608-byte buffer: overflow, ASan).
long=$(python3 -c 'print("/".join(["d" * 250] * 16))')
mkdir -p "$tmp/$long" "$tmp/nl
dir"
name=$(python3 -c 'print("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "e" * 44 + ".dyn.example.test")')
printf '10.0.0.1\n10.0.0.2\n' > "$tmp/$long/v4.txt"
printf '10.0.0.1\n10.0.0.2\n' > "$tmp/nl
dir/v4.txt"
cat > long.json <<JSON
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60,
 "handlers": [{"qname": "$name", "qtype": "A", "file": "$long/v4.txt"},
  {"qname": "t2.dyn.example.test", "qtype": "A", "file": "nl\\ndir/v4.txt"}]}
JSON
out=$(python3 - "$PDYNDNS" "$tmp" "$long" "$name" <<'PY'
import os, socket, subprocess, sys, time
exe, tmp, long, name = sys.argv[1:5]
sys.path.insert(0, tmp); from parse import parse
lpath, npath = tmp + "/" + long + "/v4.txt", tmp + "/nl\ndir/v4.txt"
journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
journal.bind(tmp + "/journal2.sock"); journal.settimeout(5)
stream, ours = socket.socketpair()
st = os.fstat(ours.fileno())
env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino),
           PDYNDNS_JOURNAL_SOCKET=tmp + "/journal2.sock")
p = subprocess.Popen([exe, "--config", tmp + "/long.json", "--control-dir", tmp + "/ctl2"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=ours, env=env, cwd=tmp)
ours.close()
def records(until, limit=30):
    got = []
    for _ in range(limit):
        try: r = parse(journal.recv(65536))
        except socket.timeout: break
        got.append(r)
        if until in r.get("MESSAGE", ""): break
    return got
first = records("zone dyn.example.test")
print("started", any("zone dyn.example.test" in r["MESSAGE"] for r in first))
time.sleep(0.3)
for path in (lpath, npath):
    with open(path + ".new", "w") as f: f.write("10.0.0.3\n10.0.0.\n")
    os.rename(path + ".new", path)
recs = records("generation 2 applied")
p.stdin.close(); p.wait(timeout=10)
def one(cond):
    found = [r for r in recs if cond(r)]
    return found[0] if len(found) == 1 else {}
bad = one(lambda r: r.get("PDYNDNS_FILE") == lpath and "is not an IPv4 address" in r["MESSAGE"])
print("long bad", len(lpath) > 4000, bad.get("PDYNDNS_LINE"),
      bad.get("MESSAGE") == lpath + ':2: error: "10.0.0." is not an IPv4 address')
keep = one(lambda r: r.get("PDYNDNS_FILE") == lpath and "keeping" in r["MESSAGE"])
print("long keep", keep.get("PDYNDNS_HANDLER") == name + " A", len(name), "PDYNDNS_LINE" in keep,
      keep.get("MESSAGE") == lpath + ": keeping the previous list for " + name + " A (2 addresses)")
nl = one(lambda r: r.get("PDYNDNS_FILE") == npath and "is not an IPv4 address" in r["MESSAGE"])
print("newline bad", nl.get("PDYNDNS_LINE"), nl.get("MESSAGE", "").startswith(npath + ":2: error:"))
nlk = one(lambda r: r.get("PDYNDNS_FILE") == npath and "keeping" in r["MESSAGE"])
print("newline keep", nlk.get("PDYNDNS_HANDLER"))
print("exit", p.returncode)
PY
)
echo "$out"
expect "started True"
expect "long bad True 2 True"
expect "long keep True 253 False True"
expect "newline bad 2 True"
expect "newline keep t2.dyn.example.test A"
expect "exit 0"

# JOURNAL_STREAM naming another file: plain lines on stderr
JOURNAL_STREAM=1:1 PDYNDNS_JOURNAL_SOCKET=$tmp/none "$PDYNDNS" --config config.json --control-dir "$tmp/ctl" \
    < /dev/null > /dev/null 2> err.txt
if grep -q '^pdyndns\[[0-9]*\]: info: ' err.txt; then passes=$((passes + 1)); else fail "no stderr lines: $(cat err.txt)"; fi
echo "journal: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
