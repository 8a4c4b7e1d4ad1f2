#!/bin/sh
# SPDX-License-Identifier: MIT
# autogen.sh [--deps]: regenerate the build system.
#   --deps  first install (apt-get, only what is missing) the Debian packages that building,
#           testing, the demo, the benchmarks, the Debian package (debian/) and make check-systemd need.
#           Needs root on Debian bookworm.
set -eu
cd "$(dirname "$0")"

DEPS="build-essential autoconf automake libtool pkg-config
libjson-c-dev libsystemd-dev libcmocka-dev libcurl4-openssl-dev libmicrohttpd-dev
pdns-server pdns-backend-pipe pdns-backend-bind dnsutils dnsperf
python3 python3-jsonschema iproute2 procps jq util-linux time
clang-14 clang-format-14 libclang-rt-14-dev systemd groff-base mandoc bash-completion
debhelper debootstrap prometheus"

if [ "${1-}" = "--deps" ]; then
    missing=
    for p in $DEPS; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
            missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "autogen.sh: installing:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing
    else
        echo "autogen.sh: all Debian dependencies present"
    fi
fi
autoreconf --install --force
