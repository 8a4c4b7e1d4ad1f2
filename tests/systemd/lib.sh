# SPDX-License-Identifier: MIT
# Boots a Debian bookworm root under its own systemd (PID 1 of a new PID namespace, over an
# overlay of the cached root) and runs commands in it. Sourced by tests/systemd/check.sh.
#
# root_build DIR       debootstrap the cached root once (about a minute; DIR/.complete marks it)
# boot_up              mount the overlay and start systemd in it; sets SYSD_PID (host pid of
#                      PID 1) and waits until boot is done; the overlay's upper directory
#                      persists across boot_down/boot_up, /run and /tmp do not (a reboot)
# boot_down            systemctl poweroff; SIGKILL if it has not ended within 60 s
# in_sys CMD...        run CMD inside (mount, pid, uts, ipc namespaces, its root and cwd)
# boot_cleanup         end whatever is left: PID 1 by pid, the cgroup made for it
#
# Everything mounted for a boot is mounted inside its mount namespace, so it goes away when
# that namespace's last process (PID 1) ends: nothing on the host stays mounted.

SYSD_PACKAGES=systemd,systemd-sysv,dbus,pdns-server,pdns-backend-pipe,dnsutils,libjson-c5,procps
SYSD_MIRROR=${SYSD_MIRROR:-http://deb.debian.org/debian}
SYSD_PID=
SYSD_UNSHARE_PID=

root_build()
{
    local dir=$1
    if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$SYSD_PACKAGES" ]; then
        return 0
    fi
    command -v debootstrap >/dev/null || { echo "debootstrap is not installed (autogen.sh --deps)"; return 77; }
    echo "building the bookworm root in $dir (debootstrap, about a minute)"
    rm -rf "$dir" "$dir.tmp"
    if ! debootstrap --variant=minbase --include="$SYSD_PACKAGES" bookworm "$dir.tmp" "$SYSD_MIRROR" \
        > "$dir.log" 2>&1; then
        echo "debootstrap failed; see $dir.log"
        rm -rf "$dir.tmp"
        return 1
    fi
    mv "$dir.tmp" "$dir"
    echo "$SYSD_PACKAGES" > "$dir/.complete"
}

# $1 lower root, $2 state directory (upper, work, merged, console log)
boot_up()
{
    local lower=$1 state=$2 i
    mkdir -p "$state/upper" "$state/work" "$state/merged"
    # a cgroup of its own on the unified hierarchy, made the root of a cgroup namespace:
    # this systemd manages that subtree and nothing of the host's
    SYSD_CGROUP=
    if [ -d /sys/fs/cgroup/unified ]; then
        SYSD_CGROUP=/sys/fs/cgroup/unified/pdyndns-check-systemd.$$
    elif [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
        SYSD_CGROUP=/sys/fs/cgroup/pdyndns-check-systemd.$$
    fi
    [ -n "$SYSD_CGROUP" ] && mkdir -p "$SYSD_CGROUP"
    LOWER=$lower STATE=$state CG=$SYSD_CGROUP setsid bash -c '
        set -e
        [ -n "$CG" ] && echo $$ > "$CG/cgroup.procs"
        exec unshare --cgroup --pid --mount --uts --ipc --fork --propagation private bash -c "
            set -e
            m=\$STATE/merged
            mount -t overlay overlay -o lowerdir=\$LOWER,upperdir=\$STATE/upper,workdir=\$STATE/work \$m
            mount -t proc proc \$m/proc
            mount -t sysfs sysfs \$m/sys
            mount -t cgroup2 cgroup2 \$m/sys/fs/cgroup
            mount -t tmpfs -o mode=0755,nosuid dev \$m/dev
            for d in null zero full random urandom tty; do
                touch \$m/dev/\$d; mount --bind /dev/\$d \$m/dev/\$d
            done
            mkdir \$m/dev/pts \$m/dev/shm
            mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts \$m/dev/pts
            ln -s pts/ptmx \$m/dev/ptmx
            mount -t tmpfs -o mode=1777,nosuid,nodev shm \$m/dev/shm
            mount -t tmpfs -o mode=0755,nosuid,nodev run \$m/run
            mount -t tmpfs -o mode=1777,nosuid,nodev tmp \$m/tmp
            hostname pdyndns-check
            export container=pdyndns-check
            exec chroot \$m /lib/systemd/systemd --log-target=console --show-status=no
        "
    ' < /dev/null >> "$state/console.log" 2>&1 &
    SYSD_UNSHARE_PID=$!
    SYSD_PID=
    for i in $(seq 1 100); do
        SYSD_PID=$(ps -o pid= --ppid "$SYSD_UNSHARE_PID" 2>/dev/null | tr -d ' ' | head -n1)
        [ -n "$SYSD_PID" ] && [ "$(readlink "/proc/$SYSD_PID/exe" 2>/dev/null)" != "$(readlink /proc/$$/exe)" ] &&
            [ -e "/proc/$SYSD_PID/root/run/systemd/system" ] && break
        kill -0 "$SYSD_UNSHARE_PID" 2>/dev/null || { echo "systemd did not start; $state/console.log:"; tail -n 20 "$state/console.log"; return 1; }
        sleep 0.1
    done
    [ -n "$SYSD_PID" ] || { echo "no PID 1 found"; return 1; }
    # until the boot is done (running or degraded), at most 120 s; the manager's bus may
    # not be there yet at the first tries
    local st=
    for i in $(seq 1 240); do
        st=$(timeout 10 nsenter -t "$SYSD_PID" -m -p -u -i -r -w systemctl is-system-running 2>/dev/null)
        case $st in
        running | degraded) return 0 ;;
        esac
        kill -0 "$SYSD_PID" 2>/dev/null || break
        sleep 0.5
    done
    echo "boot did not finish: ${st:-no answer}; $state/console.log:"
    tail -n 20 "$state/console.log"
    return 1
}

in_sys()
{
    nsenter -t "$SYSD_PID" -m -p -u -i -r -w -- "$@"
}

boot_down()
{
    local i
    [ -n "$SYSD_UNSHARE_PID" ] || return 0
    in_sys systemctl --no-block poweroff >/dev/null 2>&1
    for i in $(seq 1 600); do
        kill -0 "$SYSD_UNSHARE_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$SYSD_UNSHARE_PID" 2>/dev/null; then
        echo "systemd did not power off within 60 s; killing PID 1 ($SYSD_PID)"
        kill -KILL "$SYSD_PID" 2>/dev/null
        wait "$SYSD_UNSHARE_PID" 2>/dev/null
    fi
    wait "$SYSD_UNSHARE_PID" 2>/dev/null
    SYSD_UNSHARE_PID= SYSD_PID=
    rmdir_cgroup
}

# the cgroups systemd made, deepest first (only empty ones can go)
rmdir_cgroup()
{
    [ -n "${SYSD_CGROUP-}" ] && [ -d "$SYSD_CGROUP" ] || return 0
    find "$SYSD_CGROUP" -depth -type d -exec rmdir {} \; 2>/dev/null
}

boot_cleanup()
{
    if [ -n "$SYSD_UNSHARE_PID" ] && kill -0 "$SYSD_UNSHARE_PID" 2>/dev/null; then
        [ -n "$SYSD_PID" ] && kill -KILL "$SYSD_PID" 2>/dev/null
        kill -KILL "$SYSD_UNSHARE_PID" 2>/dev/null
        wait "$SYSD_UNSHARE_PID" 2>/dev/null
    fi
    SYSD_UNSHARE_PID= SYSD_PID=
    rmdir_cgroup
}
