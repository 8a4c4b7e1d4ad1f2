#!/bin/bash
# SPDX-License-Identifier: MIT
# The schema is the contract: every config under tests/data/configs/{good,bad} gets the
# same verdict from python3-jsonschema (Draft 2020-12, with strict JSON: no duplicate keys,
# no NaN) and from `pdyndns --check`. The corpus labels are checked too: good/ must be
# valid and bad/ invalid.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
top_srcdir=${top_srcdir:-$top}
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
PY=/usr/bin/python3
$PY -c 'import jsonschema' 2>/dev/null || { echo "SKIP: /usr/bin/python3 with jsonschema is missing"; exit 77; }
corpus=$top_srcdir/tests/data/configs
schema=$top_srcdir/schema/config-schema.json

# python's verdict for every file at once: "PATH<TAB>valid|invalid<TAB>first reason"
verdicts=$($PY - "$schema" "$corpus"/good/*.json "$corpus"/bad/*.json <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
def no_dups(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)
def no_const(c):
    raise ValueError("not a JSON number: " + c)
for path in sys.argv[2:]:
    try:
        raw = open(path, "rb").read()
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=no_dups, parse_constant=no_const)
        errs = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
        verdict, why = ("invalid", errs[0].message) if errs else ("valid", "")
    except (ValueError, UnicodeDecodeError) as e:
        verdict, why = "invalid", "JSON: %s" % e
    print("%s\t%s\t%s" % (path, verdict, why.replace("\n", " ")[:200]))
PY
) || { echo "FAIL: python could not judge the corpus"; exit 1; }

files=0 disagree=0
while IFS=$'\t' read -r path py why; do
    files=$((files + 1))
    out=$("$PDYNDNS" --check --config "$path" 2>&1)
    rc=$?
    case $rc in 0) ours=valid ;; 1) ours=invalid ;; *) ours="exit $rc" ;; esac
    case $path in */good/*) label=valid ;; *) label=invalid ;; esac
    if [ "$py" != "$label" ]; then
        echo "FAIL: $path is under ${label/valid/good}/ but python says $py: $why"
        disagree=$((disagree + 1))
    elif [ "$ours" != "$py" ]; then
        echo "FAIL: $path: python says $py${why:+ ($why)}, pdyndns --check says $ours:"
        echo "$out" | sed 's/^/    /'
        disagree=$((disagree + 1))
    fi
done <<< "$verdicts"

if [ "$files" -lt 30 ]; then
    echo "FAIL: only $files configs in the corpus, at least 30 expected"
    disagree=$((disagree + 1))
fi
echo "agree: $files files, $disagree disagreements"
[ "$disagree" -eq 0 ]
