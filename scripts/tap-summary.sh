#!/usr/bin/env bash
# Sums node:test TAP summaries ("# pass N", "# fail N", ...) from the given files and prints
#   LABEL: P passed, F failed[, S skipped]
# Exits 1 when anything failed or when no test ran at all. A file that is missing (its run
# crashed before writing it) or ends without its summary (its run was killed) counts as one failure.
label=$1; shift
files=()
missing=0
for f in "$@"; do
  if [[ -r $f ]]; then files+=("$f"); else echo "tap-summary: no TAP output in $f" >&2; missing=$((missing + 1)); fi
done
awk -v missing="$missing" -v label="$label" '
  function incomplete() { if (file != "" && !summary) { f++; print "tap-summary: " file " ends without its summary (the run was cut short)" > "/dev/stderr" } }
  FNR == 1        { incomplete(); file = FILENAME; summary = 0 }
  /^# (tests|pass|fail) / { summary = 1 }
  /^# pass /      { p += $3 }
  /^# fail /      { f += $3 }
  /^# cancelled / { f += $3 }
  /^# skipped /   { s += $3 }
  /^# todo /      { s += $3 }
  END {
    incomplete()
    f += missing
    line = sprintf("%s: %d passed, %d failed", label, p, f)
    if (s) line = line sprintf(", %d skipped", s)
    print line
    if (f > 0 || p == 0) exit 1
  }' "${files[@]}" /dev/null
