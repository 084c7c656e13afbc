#!/usr/bin/env bash
# Smoke test of scripts/plot_retention.py: one preset, two ages, two temperatures, 50 images, no
# plot (so matplotlib is not needed). Checks the CSV's header, its row count (1 preset x 2 drift
# comp x (2 ages + 2 temperatures) = 8) and that every accuracy is in [0, 1].
#   bash tests/scripts/plot_retention_smoke.sh /path/to/aimc
set -uo pipefail
AIMC="${1:?usage: plot_retention_smoke.sh /path/to/aimc}"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-/usr/bin/python3}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$PYTHON" "$SRC/scripts/plot_retention.py" --aimc "$AIMC" --limit 50 --times 1s,1y --temps 25,85 \
  --presets membrain-3x4 --no-plot --jobs 2 --out "$TMP/out" >"$TMP/stdout" 2>"$TMP/stderr"
rc=$?
if [ "$rc" -ne 0 ]; then
  cat "$TMP/stdout" "$TMP/stderr" >&2
  fail "plot_retention.py exited $rc"
fi
CSV="$TMP/out/retention.csv"
[ -f "$CSV" ] || fail "no $CSV"
[ ! -e "$TMP/out/retention.png" ] || fail "--no-plot wrote a plot"
expected="preset,device,axis,time_s,temp_c,drift_comp"
expected+=",accuracy_platform,accuracy_float,weight_error_relative_rms"
[ "$(head -1 "$CSV" | tr -d '\r')" = "$expected" ] || fail "CSV header is '$(head -1 "$CSV")'"
rows=$(($(wc -l <"$CSV") - 1))
[ "$rows" -eq 8 ] || { cat "$CSV" >&2; fail "expected 8 rows, got $rows"; }
awk -F, 'NR > 1 {
  if ($1 != "membrain-3x4" || ($3 != "time" && $3 != "temp")) bad = bad "\n  " $0
  if ($6 != 0 && $6 != 1) bad = bad "\n  " $0
  for (i = 7; i <= 8; ++i) if ($i == "" || $i + 0 < 0 || $i + 0 > 1) bad = bad "\n  " $0
  if ($3 == "temp" && $5 != 25 && $5 != 85) bad = bad "\n  " $0
  if ($3 == "time" && $4 != 1 && $4 != 31557600 && $4 != "3.15576e+07") bad = bad "\n  " $0
} END { if (bad != "") { print "bad rows:" bad > "/dev/stderr"; exit 1 } }' "$CSV" \
  || fail "CSV rows out of range"
grep -q "^sanity membrain-3x4" "$TMP/stdout" || { cat "$TMP/stdout" >&2; fail "no sanity line"; }
echo "ok: plot_retention.py wrote $rows rows, accuracies in [0, 1]"
