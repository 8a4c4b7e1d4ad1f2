#!/bin/bash
# SPDX-License-Identifier: MIT
# Logging to the journal: when stderr is the stream JOURNAL_STREAM names (as systemd sets it
# up), each message becomes a journal record of its own on the journal's socket (here a
# stand-in, PDYNDNS_JOURNAL_SOCKET) with PRIORITY, MESSAGE and the fields it names:
# PDYNDNS_FILE, PDYNDNS_LINE, PDYNDNS_HANDLER, PDYNDNS_GENERATION. Nothing then goes to the
# stream itself. Without JOURNAL_STREAM, or when it names another file, stderr gets lines.
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

out=$(python3 - "$PDYNDNS" "$tmp" <<'PY'
import os, socket, subprocess, sys, time
exe, tmp = sys.argv[1], sys.argv[2]
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
        r = dict(l.split("=", 1) for l in journal.recv(65536).decode().splitlines())
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

# JOURNAL_STREAM naming another file: plain lines on stderr
JOURNAL_STREAM=1:1 PDYNDNS_JOURNAL_SOCKET=$tmp/none "$PDYNDNS" --config config.json --control-dir "$tmp/ctl" \
    < /dev/null > /dev/null 2> err.txt
if grep -q '^pdyndns\[[0-9]*\]: info: ' err.txt; then passes=$((passes + 1)); else fail "no stderr lines: $(cat err.txt)"; fi
echo "journal: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
