# SPDX-License-Identifier: MIT
# procs.sh: process and port helpers shared by the integration tests (lib.sh) and the
# benchmark (tests/bench/bench.sh). Sourcing it only defines functions; both work under
# `set -eu`.

# stop_pid PID: TERM, a bounded wait, then KILL; the coprocesses it left get a moment to
# exit on their own (they do at EOF), then KILL too.
stop_pid() {
    local pid=$1 kids i k
    kill -0 "$pid" 2>/dev/null || return 0
    kids=$(pgrep -P "$pid" 2>/dev/null || true)
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for k in $kids; do
        for ((i = 0; i < 20; i++)); do kill -0 "$k" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$k" 2>/dev/null || true
    done
    return 0
}

# free_port: a TCP and UDP port on 127.0.0.1 nobody uses right now.
free_port() {
    /usr/bin/python3 - <<'PY'
import random, socket
for _ in range(200):
    p = random.randint(20000, 60000)
    try:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM); t.bind(("127.0.0.1", p))
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p))
        t.close(); u.close(); print(p); break
    except OSError:
        pass
PY
}
