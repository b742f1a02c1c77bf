#!/usr/bin/env bash
# Sums node:test TAP summaries ("# pass N", "# fail N", ...) from the given files and prints
#   LABEL: P passed, F failed[, S skipped]
# Exits 1 when anything failed or when no test ran at all. A file that is missing (its run
# crashed before writing it) counts as one failure.
label=$1; shift
files=()
missing=0
for f in "$@"; do
  if [[ -r $f ]]; then files+=("$f"); else echo "tap-summary: no TAP output in $f" >&2; missing=$((missing + 1)); fi
done
awk -v missing="$missing" -v label="$label" '
  /^# pass /      { p += $3 }
  /^# fail /      { f += $3 }
  /^# cancelled / { f += $3 }
  /^# skipped /   { s += $3 }
  /^# todo /      { s += $3 }
  END {
    f += missing
    line = sprintf("%s: %d passed, %d failed", label, p, f)
    if (s) line = line sprintf(", %d skipped", s)
    print line
    if (f > 0 || p == 0) exit 1
  }' "${files[@]}" /dev/null
