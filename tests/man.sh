#!/bin/bash
# SPDX-License-Identifier: MIT
# The man pages: groff (and mandoc, when installed) format them without a single warning,
# and they document what the programs offer: every long option of pdyndns --help and
# pdynctl --help as a flag (.Fl), every pdynctl command (.It Ic), every config key of the
# schema (.It Cm). A new option, command or key without documentation fails here.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
src=${top_srcdir:-$top}
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
PDYNCTL=${PDYNCTL:-$top/ctl/pdynctl}
command -v groff >/dev/null || { echo "SKIP: groff not installed"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
. "$(dirname "$0")/assert.sh" # passes, fails, ok, fail, expect_eq, expect_match

pages="pdyndns.8 pdynctl.8 pdyndns.json.5"

for p in $pages; do
    f=$src/man/$p
    [ -f "$f" ] || { fail "$p: missing"; continue; }
    out=$(groff -ww -mdoc -Tutf8 "$f" 2>&1 >/dev/null); rc=$?
    if [ "$rc" -eq 0 ] && [ -z "$out" ]; then ok; else fail "groff -ww -mdoc $p (exit $rc): $out"; fi
    if command -v mandoc >/dev/null; then
        out=$(mandoc -Tlint -W warning "$f" 2>&1); rc=$?
        if [ "$rc" -eq 0 ] && [ -z "$out" ]; then ok; else fail "mandoc -Tlint $p (exit $rc): $out"; fi
    fi
    for s in NAME SYNOPSIS DESCRIPTION 'EXIT STATUS' FILES EXAMPLES 'SEE ALSO'; do
        grep -qx "\.Sh $s" "$f" && ok || fail "$p: no $s section"
    done
done

# the page source with \- as -, so that ".Fl \-dir" reads ".Fl --dir"
plain() { sed 's/\\-/-/g' "$src/man/$1"; }

# NAME PAGE HELP-TEXT: every --option of the help text's usage lines and option list (not
# one named in a description, like pdynctl's "as pdyndns --check") heads an item of the
# page: ".It Fl d , Fl \-dir Ar dir" (.Fl adds the first dash)
options_documented() {
    local page opts o
    page=$(plain "$2")
    opts=$(grep -E "^(Usage: |  +$1 |  +(-[A-Za-z], )?--)" <<< "$3" | grep -o -- '--[a-z][a-z-]*' | sort -u)
    [ -n "$opts" ] || { fail "$1 --help: no options found"; return; }
    for o in $opts; do
        if grep -Eq -- "^\.It .*Fl ${o#-}([^a-z-]|$)" <<< "$page"; then ok; else fail "$2: $1 option $o is not documented"; fi
    done
}
options_documented pdyndns pdyndns.8 "$("$PDYNDNS" --help)"
options_documented pdynctl pdynctl.8 "$("$PDYNCTL" --help)"

# every pdynctl command of the usage text is an item of COMMANDS
cmds=$("$PDYNCTL" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p')
[ -n "$cmds" ] && ok || fail "pdynctl --help: no commands found"
for c in $cmds; do
    grep -Eq "^\.It Ic $c( |$)" "$src/man/pdynctl.8" && ok || fail "pdynctl.8: command $c is not documented"
done

# every key of the schema (top level, every handler kind, views, zones) is an item of pdyndns.json.5
keys=$(jq -r '(.properties | keys[]), (.properties.catch_all.properties | keys[]),
        (.["$defs"] | (.addresses, .static, .whoami, .reverse, .view, .zone, .health) | .properties | keys[])' \
    "$src/schema/config-schema.json" | sort -u)
[ -n "$keys" ] && ok || fail "config-schema.json: no keys found"
for k in $keys; do
    grep -Eq "^\.It Cm $k( |$)" "$src/man/pdyndns.json.5" && ok || fail "pdyndns.json.5: key $k is not documented"
done

echo "man: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
