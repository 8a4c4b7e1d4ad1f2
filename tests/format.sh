#!/bin/bash
# SPDX-License-Identifier: MIT
# The C sources follow .clang-format (STYLE.md: one style, enforced by a tool): clang-format
# in dry-run mode over every .c and .h file of the tree; any place it would change fails the
# test, with the first lines of what it would change. `make format` applies it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
CLANG_FORMAT=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
[ -n "$CLANG_FORMAT" ] || { echo "SKIP: clang-format not installed (./autogen.sh --deps installs it)"; exit 77; }
cd "$top" || exit 1
mapfile -t files < <(find common daemon ctl tests -name '*.[ch]' ! -name 'completion.h' | sort)
bad=0
for f in "${files[@]}"; do
    out=$("$CLANG_FORMAT" --style=file --dry-run "$f" 2>&1)
    if [ -n "$out" ]; then
        bad=$((bad + 1))
        [ "$bad" -le 5 ] && printf '%s\n' "$out" | head -12
    fi
done
echo "format: ${#files[@]} files, $bad not formatted (make format fixes them)"
[ "${#files[@]}" -gt 50 ] || { echo "FAIL: too few sources found"; exit 1; }
[ "$bad" -eq 0 ]
