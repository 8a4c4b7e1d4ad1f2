# SPDX-License-Identifier: MIT
# assert.sh: the counters and checks every test script shares (source it). A script ends with
# "NAME: $passes passed, $fails failed" and a non-zero status if anything failed.
passes=0 fails=0
ok() { passes=$((passes + 1)); }
fail() { fails=$((fails + 1)); echo "FAIL: $*"; }
expect_eq() { # NAME EXPECTED GOT (long values shown cut at 2,000 characters)
    if [ "$2" == "$3" ]; then ok; else
        fail "$1"
        printf '  expected: %s\n  got:      %s\n' "$(printf %q "$2" | cut -c1-2000)" "$(printf %q "$3" | cut -c1-2000)"
    fi
}
expect_match() { # NAME REGEX TEXT
    if [[ $3 =~ $2 ]]; then ok; else fail "$1: /$2/ not in: $3"; fi
}
