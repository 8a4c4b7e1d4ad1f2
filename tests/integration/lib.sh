# SPDX-License-Identifier: MIT
# lib.sh: helpers for the integration tests (source it). They run the real pdns_server on
# 127.0.0.1 on a free high port with a generated config directory, query it with dig, and
# stop every process they started, by PID.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
PDYNCTL=${PDYNCTL:-$top/ctl/pdynctl}
PDNS_SERVER=${PDNS_SERVER:-$(command -v pdns_server || echo /usr/sbin/pdns_server)}
# PDNS_ROOT=DIR (make check-powerdns, tests/powerdns/): pdns_server is DIR's own
# /usr/sbin/pdns_server, run under chroot DIR; PDNS_SERVER is not used then
PDNS_ROOT=${PDNS_ROOT:-}
DIG=${DIG:-$(command -v dig || echo /usr/bin/dig)}

. "$top/tests/procs.sh" # stop_pid, free_port

. "$(dirname "${BASH_SOURCE[0]}")/../assert.sh" # passes, fails, ok, fail, expect_eq, expect_match
pdns_pids=()

# Skips (exit 77) only when a real part is missing.
need_pdns() {
    local server=$PDNS_SERVER
    [ -z "$PDNS_ROOT" ] || server=$PDNS_ROOT/usr/sbin/pdns_server
    [ -x "$server" ] ||
        { echo "SKIP: pdns_server not installed${PDNS_ROOT:+ in $PDNS_ROOT}"; exit 77; }
    [ -x "$DIG" ] || { echo "SKIP: dig not installed"; exit 77; }
    ls "$PDNS_ROOT"/usr/lib/*/pdns/libpipebackend.so >/dev/null 2>&1 ||
        { echo "SKIP: pdns-backend-pipe not installed${PDNS_ROOT:+ in $PDNS_ROOT}"; exit 77; }
    [ -x "$PDYNDNS" ] || { echo "FAIL: $PDYNDNS not built"; exit 1; }
}

finish() { # stops what runs, checks for sanitizer reports, prints the summary, exits
    local p
    for p in "${pdns_pids[@]}"; do stop_pid "$p"; done
    # a build with --enable-sanitizers: the copies report on stderr, i.e. in pdns.log, and a
    # daemon of socket mode in the test's own log (daemon.log)
    if grep -lE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$work"/*/pdns.log "$work"/*.log 2>/dev/null; then
        fail "sanitizer reports in the logs:"
        grep -hE -A20 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$work"/*/pdns.log "$work"/*.log 2>/dev/null | head -60
    fi
    echo "$(basename "$0" .sh): $passes passed, $fails failed"
    [ "$fails" -eq 0 ] && exit 0 || exit 1
}

# A temp dir, removed at exit unless KEEP=1.
work=$(mktemp -d "${TMPDIR:-/tmp}/pdyndns-it.XXXXXX")
cleanup() {
    local p
    for p in "${pdns_pids[@]}"; do stop_pid "$p"; done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# run_pdns ARGS...: runs pdns_server with ARGS in the foreground (exec: the caller's $! is
# pdns_server's pid), as PDNS_AS when set. Under PDNS_ROOT, chroot (which needs root) comes
# first and setpriv inside the root, with numeric ids, since the root has its own user names.
run_pdns() {
    if [ -n "$PDNS_ROOT" ] && [ -n "${PDNS_AS:-}" ]; then
        exec chroot "$PDNS_ROOT" setpriv --reuid="$(id -u "$PDNS_AS")" \
            --regid="$(getent group nogroup | cut -d: -f3)" --clear-groups /usr/sbin/pdns_server "$@"
    elif [ -n "$PDNS_ROOT" ]; then
        # an absolute path: a pdns_server on PATH could be a wrapper seen through the mounts
        exec chroot "$PDNS_ROOT" /usr/sbin/pdns_server "$@"
    elif [ -n "${PDNS_AS:-}" ]; then
        exec setpriv --reuid="$PDNS_AS" --regid=nogroup --clear-groups "$PDNS_SERVER" "$@"
    else
        exec "$PDNS_SERVER" "$@"
    fi
}

# pdns_version: the version of the pdns_server the tests run, e.g. "4.7.3"
pdns_version() {
    (PDNS_AS= run_pdns --version 2>&1) | sed -n 's/.*PowerDNS Authoritative Server \([0-9][0-9.]*\).*/\1/p' | head -n1
}
# pdns_at_least VERSION: whether that version is VERSION or later
pdns_at_least() { printf '%s\n' "$1" "$(pdns_version)" | sort -V -C; }

# start_pdns DIR CONFIG ABI [EXTRA-LINE...]: writes DIR/pdns.conf and starts pdns_server;
# sets PORT and PDNS_PID. The pdns log is DIR/pdns.log. PIPE_COMMAND replaces the
# pipe-command (socket mode: a socket path). With PDNS_AS=USER (and root),
# pdns and pdyndns run as that user.
start_pdns() {
    local dir=$1 config=$2 abi=$3 try line
    shift 3
    mkdir -p "$dir"
    for try in 1 2 3; do
        PORT=$(free_port)
        {
            echo "launch=pipe"
            echo "pipe-command=${PIPE_COMMAND:-$PDYNDNS --config $config --control-dir $dir/ctl}"
            echo "pipe-abi-version=$abi"
            echo "local-address=127.0.0.1"
            echo "local-port=$PORT"
            echo "socket-dir=$dir"
            echo "daemon=no"
            echo "guardian=no"
            echo "disable-syslog=yes"
            echo "log-timestamp=no"
            echo "security-poll-suffix="
            echo "zone-cache-refresh-interval=0"
            echo "cache-ttl=0"
            echo "query-cache-ttl=0"
            echo "negquery-cache-ttl=0"
            echo "distributor-threads=${PDNS_THREADS:-1}"
            for line in "$@"; do echo "$line"; done
        } > "$dir/pdns.conf"
        if [ -n "${PDNS_AS:-}" ]; then
            chown "$PDNS_AS" "$dir"
        fi
        run_pdns --config-dir="$dir" > "$dir/pdns.log" 2>&1 &
        PDNS_PID=$!
        pdns_pids+=("$PDNS_PID")
        for _ in $(seq 100); do
            if "$DIG" +short +time=1 +tries=1 @127.0.0.1 -p "$PORT" . SOA >/dev/null 2>&1 &&
                grep -q 'Backend launched' "$dir/pdns.log"; then
                return 0
            fi
            kill -0 "$PDNS_PID" 2>/dev/null || break
            sleep 0.1
        done
        stop_pid "$PDNS_PID"
        grep -q 'Unable to bind' "$dir/pdns.log" || break
    done
    echo "pdns_server did not start; its log:" >&2
    cat "$dir/pdns.log" >&2
    return 1
}

# q ARGS...: dig against the running pdns, short timeouts.
q() { "$DIG" +time=2 +tries=1 @127.0.0.1 -p "$PORT" "$@"; }
# status NAME TYPE [ARGS]: the rcode
status_of() { q "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }

# write_zone DIR: a config with the names most tests use.
#   t1: A 5 addresses, AAAA 4 addresses; a.b.c (depth 3): A 4 addresses; only6: AAAA 2.
write_zone() {
    local dir=$1
    mkdir -p "$dir"
    printf '192.0.2.%d\n' 1 2 3 4 5 > "$dir/t1-v4.txt"
    printf '2001:db8::%d\n' 1 2 3 4 > "$dir/t1-v6.txt"
    printf '# depth 3\n198.51.100.%d\n' 1 2 3 4 > "$dir/abc-v4.txt"
    printf '2001:db8:6::%d\n' 1 2 > "$dir/only6.txt"
    cat > "$dir/config.json" <<JSON
{
  "loglevel": "info",
  "domain": "dyn.example.test",
  "soa": "ns1.example.test. hostmaster.example.test. 2026112201 7200 3600 1209600 120",
  "nameservers": ["ns1.example.test", "ns2.example.test"],
  "ttl": 3600,
  "handlers": [
    {"qname": "t1.dyn.example.test", "qtype": "A", "file": "t1-v4.txt"},
    {"qname": "t1.dyn.example.test", "qtype": "AAAA", "file": "t1-v6.txt"},
    {"qname": "a.b.c.dyn.example.test", "qtype": "A", "file": "abc-v4.txt"},
    {"qname": "only6.dyn.example.test", "qtype": "AAAA", "file": "only6.txt"}
  ]
}
JSON
}

# check_rotation TAG ZONEDIR: against the running pdns serving write_zone's config, fresh
# rotation: K·L questions for a name with an L-address list return each address K times, in
# file order (depth 1 and 3, A and AAAA, one or several questions per dig call).
check_rotation() {
    local tag=$1 zone=$2 K=3 got args i
    # seq_of LIST-FILE K: the expected answers, file order repeated K times
    seq_of() { local i; for ((i = 0; i < $2; i++)); do grep -v '^#' "$1"; done; }

    # depth 1, A (odd length 5): one question per dig call, UDP
    got=$(for i in $(seq 15); do q +short t1.dyn.example.test A; done)
    expect_eq "$tag: t1 A, 3 rounds" "$(seq_of "$zone/t1-v4.txt" $K)" "$got"

    # depth 3, A (even length 4): several questions in one dig call
    args=(); for i in $(seq 12); do args+=(a.b.c.dyn.example.test A); done
    got=$(q +short "${args[@]}")
    expect_eq "$tag: a.b.c A, 3 rounds" "$(seq_of "$zone/abc-v4.txt" $K)" "$got"

    # AAAA (length 2), a name with only an AAAA list
    got=$(for i in $(seq 6); do q +short only6.dyn.example.test AAAA; done)
    expect_eq "$tag: only6 AAAA, 3 rounds" "$(seq_of "$zone/only6.txt" $K)" "$got"

    # A and AAAA at one name: every question advances both lists once. After 15
    # questions both lists have advanced 15 times: question 16 (A) gets A #15%5=0,
    # question 17 (AAAA) gets AAAA #16%4=0, 18 gets A #17%5=2, 19 gets AAAA #18%4=2.
    got=$(q +short t1.dyn.example.test A t1.dyn.example.test AAAA t1.dyn.example.test A t1.dyn.example.test AAAA)
    expect_eq "$tag: t1 A/AAAA alternating" "192.0.2.1
2001:db8::1
192.0.2.3
2001:db8::3" "$got"
}

# Socket mode (socket.sh, socket-kill.sh): start_socket_daemon starts pdyndns --listen "$sock"
# for "$work/zone/config.json" (with ARGS, if any), logging to "$work/daemon.log", sets dpid
# and waits until that process serves.
start_socket_daemon() {
    "$PDYNDNS" --config "$work/zone/config.json" --control-dir "$work/ctl" --listen "$sock" \
        "$@" 2>> "$work/daemon.log" &
    dpid=$!
    pdns_pids+=("$dpid") # stopped by finish/cleanup with the rest
    for _ in $(seq 100); do
        grep -q "pdyndns\[$dpid\]: info: serving the pipe protocol" "$work/daemon.log" && return 0
        sleep 0.05
    done
    return 1
}

# keeper_running PID: PID is a connection keeper of this test's daemons (its name, and a
# command line, inherited from pdyndns, that names $work), and not a zombie. An exited keeper
# may stay a zombie: PID 1 of a container need not reap orphans. A keeper that exited long
# ago may have left its PID to another process (pid_max can be 32768, and make check runs
# tests side by side), hence the name and the command line.
keeper_running() {
    [ "$(cat /proc/"$1"/comm 2>/dev/null)" = pdyndns-keeper ] &&
        tr '\0' ' ' < /proc/"$1"/cmdline 2>/dev/null | grep -qF -- "$work/" &&
        [ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" != Z ]
}

# keepers_left: after pdns stopped, the connection keepers named in "$work/daemon.log" that
# still run 10 s later (each shown with its messages and descriptors, then stopped by PID).
keepers_left() {
    local k left=
    for k in $(grep -o 'pdyndns-keeper\[[0-9]*\]' "$work/daemon.log" | tr -dc '0-9\n' | sort -u); do
        for _ in $(seq 100); do keeper_running "$k" || break; sleep 0.1; done
        if keeper_running "$k"; then
            left+="$k "
            echo "  keeper $k still running; its messages and descriptors:" >&2
            grep "keeper\[$k\]" "$work/daemon.log" | sed 's/^/    /' >&2
            ls -l /proc/"$k"/fd 2>/dev/null | sed 's/^/    /' >&2
            kill "$k"
        fi
    done
    echo "$left"
}

# wait_log PATTERN [N]: until the file $log names has N (default 1) lines matching PATTERN, at most 15 s
wait_log() {
    local i
    for ((i = 0; i < 300; i++)); do
        [ "$(grep -cE -- "$1" "$log")" -ge "${2:-1}" ] && return 0
        sleep 0.05
    done
    return 1
}

# start_metrics_zone: the test zone in socket mode with the HTTP endpoint on a free port
# ($mport) and pdns (3 threads) on the socket ($sock); a failure to start ends the test
start_metrics_zone() {
    write_zone "$work/zone"
    sock=$work/pipe.sock dpid=
    mport=$(free_port)
    start_socket_daemon --metrics-listen "127.0.0.1:$mport" ||
        { fail "pdyndns --listen --metrics-listen did not start"; cat "$work/daemon.log"; finish; }
    PIPE_COMMAND=$sock start_pdns "$work/pdns" "$work/zone/config.json" 3 || { fail "start pdns"; finish; }
}
