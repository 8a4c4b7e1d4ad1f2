# SPDX-License-Identifier: MIT
# roots.sh: the cached Debian roots that make check-powerdns runs pdns_server from (source it).
#
# root_ensure SUITE DIR   build DIR with debootstrap unless it is complete and works: its stamp
#                         (DIR/.pdyndns-root) names the same packages, and its pdns_server
#                         prints a version under chroot. A root that fails that check is built
#                         again from scratch. Returns 77 when debootstrap is missing.
# root_mirror             the Debian mirror named in this machine's apt sources
#                         (PDYNDNS_MIRROR overrides it; http://deb.debian.org/debian if none)
#
# The roots live outside the build tree (PDYNDNS_ROOTS, /var/cache/pdyndns-roots by default) so
# that make distclean and a fresh clone's CI run reuse them.

# what PowerDNS needs, and the libraries pdyndns links that pdns-server does not pull in
# (libcurl it does); libmicrohttpd's package took the t64 suffix after bookworm
ROOT_PACKAGES=pdns-server,pdns-backend-pipe,pdns-backend-bind,libjson-c5,libsystemd0
root_packages() { # SUITE
    case $1 in
    bookworm) echo "$ROOT_PACKAGES,libmicrohttpd12" ;;
    *) echo "$ROOT_PACKAGES,libmicrohttpd12t64" ;;
    esac
}
PDYNDNS_ROOTS=${PDYNDNS_ROOTS:-/var/cache/pdyndns-roots}

root_mirror() {
    local m
    if [ -n "${PDYNDNS_MIRROR:-}" ]; then echo "$PDYNDNS_MIRROR"; return; fi
    # one-line "deb URL SUITE ..." and deb822 "URIs: URL" entries; the main archive, not security
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
        2>/dev/null | sed -n -e 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' -e 's/^URIs: *\([^ ]*\).*/\1/p' |
        grep -E '/debian/?$' | grep -v security | head -n1)
    echo "${m:-http://deb.debian.org/debian}"
}

# root_works SUITE DIR: the stamp names our packages and the root's pdns_server and backends
# are there
root_works() {
    local dir=$2
    [ "$(cat "$dir/.pdyndns-root" 2>/dev/null)" = "$(root_packages "$1")" ] || return 1
    ls "$dir"/usr/lib/*/pdns/libpipebackend.so "$dir"/usr/lib/*/pdns/libbindbackend.so >/dev/null 2>&1 ||
        return 1
    chroot "$dir" /usr/sbin/pdns_server --version >/dev/null 2>&1
}

root_ensure() {
    local suite=$1 dir=$2 mirror
    root_works "$suite" "$dir" && return 0
    command -v debootstrap >/dev/null ||
        { echo "SKIP: debootstrap is not installed (./autogen.sh --deps)"; return 77; }
    mirror=$(root_mirror)
    mkdir -p "$(dirname "$dir")"
    echo "building the $suite root in $dir (debootstrap from $mirror, 1 to 2 minutes; log $dir.log)"
    # never recurse into anything mounted inside an old root (check.sh mounts only in its own
    # mount namespace, but a root left by other tools might hold mounts)
    rm -rf --one-file-system "$dir" "$dir.tmp"
    if ! debootstrap --variant=minbase --include="$(root_packages "$suite")" "$suite" "$dir.tmp" "$mirror" \
        > "$dir.log" 2>&1; then
        echo "debootstrap $suite failed; the end of $dir.log:"
        tail -n 15 "$dir.log"
        rm -rf --one-file-system "$dir.tmp"
        return 1
    fi
    root_packages "$suite" > "$dir.tmp/.pdyndns-root"
    mv "$dir.tmp" "$dir"
    root_works "$suite" "$dir" || { echo "the $suite root in $dir does not run pdns_server"; return 1; }
}
