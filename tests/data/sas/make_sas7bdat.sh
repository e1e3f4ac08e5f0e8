#!/usr/bin/env bash
# Rebuilds heart_failure.sas7bdat: compiles write_sas7bdat.c against the ReadStat sources shipped in
# pyreadstat's source distribution (MIT) and writes the demo heart failure table (CC BY 4.0) with it.
# Needs gcc and network access to PyPI. See SOURCE.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
url="https://files.pythonhosted.org/packages/36/66/3f9533d6845c10debd885d28e8703f7fd028ae347d68f0a2c111d283dc8d/pyreadstat-1.3.7.tar.gz"
curl -sSL -o pyreadstat.tar.gz "$url"
echo "c15cc9f58edfd96afb850f65de252c52f5466ff27ce44772d3389d3a0c11b5ca  pyreadstat.tar.gz" | sha256sum -c --quiet
tar xzf pyreadstat.tar.gz
src="$work/pyreadstat-1.3.7/src"
gcc -O1 -w -I"$src" -o write_sas7bdat "$here/write_sas7bdat.c" "$src"/*.c "$src"/sas/*.c -lm
./write_sas7bdat "$here/../../../workbench/demo/heart_failure_clinical_records.csv" \
    "$here/heart_failure.sas7bdat" "Heart failure clinical records"
sha256sum "$here/heart_failure.sas7bdat"
