#!/bin/bash
# SPDX-License-Identifier: MIT
# The bash completion of pdynctl (completions/pdynctl), sourced into this shell and called as
# bash would call it: it registers for pdynctl, completes commands and options, directories
# after --dir, files after --socket and check, the record type of query NAME TYPE; and it
# offers every command and long option that pdynctl --help lists, so the two cannot drift;
# and pdynctl completion prints that same script.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
src=${top_srcdir:-$top}
PDYNCTL=${PDYNCTL:-$top/ctl/pdynctl}
. "$(dirname "$0")/assert.sh" # passes, fails, ok, fail, expect_eq, expect_match

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
mkdir -p run/pdyndns lists
: > config.json
: > config.json.new

# shellcheck source=../completions/pdynctl
source "$src/completions/pdynctl" || { echo "FAIL: cannot source completions/pdynctl"; exit 1; }
expect_eq "complete -p pdynctl" "complete -F _pdynctl pdynctl" "$(complete -p pdynctl 2>&1)"

# WORDS...: the completions offered for the last word, sorted, on one line
comp() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _pdynctl pdynctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

got=$(comp pdynctl re); [[ " $got " == *" reload "* ]] && ok || fail "pdynctl re<TAB>: no reload in: $got"
expect_eq "pdynctl re<TAB>" "reload" "$(comp pdynctl re)"
expect_eq "pdynctl st<TAB>" "status" "$(comp pdynctl st)"
expect_eq "commands" "check completion health list metrics query reload status" "$(comp pdynctl '')"
expect_eq "--dir completes directories only" "lists run" "$(comp pdynctl --dir '')"
expect_eq "--dir=DIR, split at = by bash" "run" "$(comp pdynctl --dir = ru)"
expect_eq "--dir DIR, then the command" "status" "$(comp pdynctl --dir run st)"
expect_eq "--socket completes files" "config.json config.json.new" "$(comp pdynctl --socket conf)"
expect_eq "--timeout takes a number: nothing offered" "" "$(comp pdynctl --timeout '')"
expect_eq "check completes files" "config.json config.json.new" "$(comp pdynctl check conf)"
expect_eq "check takes one file" "" "$(comp pdynctl check config.json '')"
expect_eq "query NAME: nothing offered" "" "$(comp pdynctl query '')"
expect_eq "query NAME TYPE" "A AAAA ANY NS SOA" "$(comp pdynctl query www.dyn.example.test '')"
expect_eq "query NAME TYPE after options" "A AAAA ANY" "$(comp pdynctl --json -t 3 query www.dyn.example.test A)"
expect_eq "query NAME TYPE, then nothing" "" "$(comp pdynctl query www.dyn.example.test A '')"
expect_eq "health NAME TYPE: the checked types" "A AAAA" "$(comp pdynctl health www.dyn.example.test '')"
expect_eq "options after the command" "--client" "$(comp pdynctl query www.dyn.example.test A --cl)"

# in step with pdynctl: every command and long option of its --help is offered
help=$("$PDYNCTL" --help)
cmds=$(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p' <<< "$help")
opts=$(grep -E '^(Usage: |  +(-[A-Za-z], )?--)' <<< "$help" | grep -o -- '--[a-z][a-z-]*' | sort -u)
[ -n "$cmds" ] && [ -n "$opts" ] && ok || fail "pdynctl --help: no commands or options found"
offered=" $(comp pdynctl '') "
for c in $cmds; do [[ $offered == *" $c "* ]] && ok || fail "command $c of pdynctl --help is not completed"; done
offered=" $(comp pdynctl --) "
for o in $opts; do [[ $offered == *" $o "* ]] && ok || fail "option $o of pdynctl --help is not completed"; done

# pdynctl completion prints the same script (built in from completions/pdynctl)
expect_eq "pdynctl completion = completions/pdynctl" "$(cat "$src/completions/pdynctl")" "$("$PDYNCTL" completion)"

echo "completion: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
