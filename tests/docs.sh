#!/bin/bash
# SPDX-License-Identifier: MIT
# Docs as tests: every example of README.md and of the man pages' EXAMPLES sections runs
# (tests/docs.py says how blocks are told apart and run): configs pass pdyndns --check, the
# commands shown run against PowerDNS 4.7.3 with pdyndns and print what the docs show, the
# pdns.conf lines pass --check --pdns-config, and the coprocess production recipe runs as
# written. All of it in private mount, network and PID namespaces (root needed): /etc and
# /usr are overlays thrown away at the end, 127.0.0.1:5300 and :53 are the namespace's own,
# and whatever was started ends with the namespace. DOCS_ONLY=README.md (or man/pdyndns.8, ...)
# checks one document.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
src=${top_srcdir:-$top}
build=${top_builddir:-$top}
export PDYNDNS=${PDYNDNS:-$build/daemon/pdyndns}
export PDYNCTL=${PDYNCTL:-$build/ctl/pdynctl}

[ "$(id -u)" = 0 ] || { echo "SKIP: tests/docs.sh needs root (mount and network namespaces, make install)"; exit 77; }
for t in unshare python3 dig ip setpriv; do
    command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
command -v pdns_server >/dev/null || { echo "SKIP: pdns_server not installed"; exit 77; }
ls /usr/lib/*/pdns/libpipebackend.so >/dev/null 2>&1 || { echo "SKIP: pdns-backend-pipe not installed"; exit 77; }
getent passwd pdns >/dev/null || { echo "SKIP: no user pdns (pdns-server not installed)"; exit 77; }
[ -x "$PDYNDNS" ] && [ -x "$PDYNCTL" ] || { echo "FAIL: $PDYNDNS or $PDYNCTL not built"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pdyndns-docs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
unshare --mount --net --pid --fork --mount-proc --propagation private \
    python3 "$src/tests/docs.py" "$src" "$build" "$tmp"
