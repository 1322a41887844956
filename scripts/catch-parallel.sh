#!/usr/bin/env bash
# scripts/catch-parallel.sh BINARY SPEC [JOBS]: every Catch2 test case SPEC selects, each in a process of its
# own, JOBS (default: nproc) at a time, longest first where an earlier run's times are known.
#
# Why: Debian's Catch2 (2.13) runs the test cases of one process one after another, on one core, and has no
# --shard-count (Catch2 3 has). Under the sanitizers the test binary is 2-20x slower, and those one-core runs
# were half of CI's time (scripts/test-sanitizers.sh). A process per case also keeps one case's sanitizer
# report from hiding the cases after it: every case runs, and every failure is printed whole.
#
# The times of each case are kept in BINARY.times (name<TAB>seconds), so the next run starts the longest
# first and the pool does not end on one long case alone.
# Exit 0 when every case passed, 1 otherwise; one summary line either way.
set -uo pipefail
bin=$1 spec=$2 jobs=${3:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# (Catch2's listing exits with the number of cases it lists)
"$bin" --list-test-names-only "$spec" | sed '/^$/d' >"$work/names" || true
total=$(wc -l <"$work/names")
if [ "$total" -eq 0 ]; then
  echo "catch-parallel: no test case of $bin matches '$spec'"
  exit 1
fi
# Known-longest first; cases without a time yet go first of all (they may be long).
times="$bin.times"
awk -F'\t' -v times="$times" '
  BEGIN { while ((getline line < times) > 0) { split(line, f, "\t"); t[f[1]] = f[2] } }
  { print ($0 in t ? t[$0] : 1e9) "\t" NR "\t" $0 }' "$work/names" | sort -t$'\t' -k1,1gr >"$work/order"
if [ "$(wc -l <"$work/order")" -ne "$total" ]; then
  echo "catch-parallel: could not order the $total test cases"
  exit 1
fi

run_case() {  # run_case INDEX NAME: one case, its output in INDEX.log, its status and seconds in INDEX.rc
  local i=$1 name=$2 t0 rc
  # A test spec reads , [ ] " * ~ and \ as syntax; each is escaped to stand for itself.
  local escaped
  escaped=$(printf '%s' "$name" | sed 's/[][\\,"*~]/\\&/g')
  t0=$EPOCHREALTIME
  # a hung case fails (exit 124) instead of holding CI until its own limit: the longest case takes 3 minutes
  timeout --kill-after=10 "${CATCH_PARALLEL_TIMEOUT:-1200}" "$bin" "$escaped" >"$work/$i.log" 2>&1
  rc=$?
  [ $rc = 124 ] && echo "(timed out after ${CATCH_PARALLEL_TIMEOUT:-1200} s)" >>"$work/$i.log"
  printf '%s\t%s\n' "$rc" "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" >"$work/$i.rc"
}
export -f run_case
export bin work CATCH_PARALLEL_TIMEOUT
cut -f2,3 "$work/order" | tr '\t' '\n' | xargs -d '\n' -n 2 -P "$jobs" bash -c 'run_case "$1" "$2"' run_case

failed=0 ran=0
: >"$work/times"
while IFS=$'\t' read -r _ i name; do
  if [ ! -f "$work/$i.rc" ]; then
    echo "=== did not run: $name"
    failed=$((failed + 1))
    continue
  fi
  IFS=$'\t' read -r rc secs <"$work/$i.rc"
  ran=$((ran + 1))
  printf '%s\t%.1f\n' "$name" "$secs" >>"$work/times"
  if [ "$rc" != 0 ]; then
    echo "=== FAILED (exit $rc): $name"
    cat "$work/$i.log"
    failed=$((failed + 1))
  fi
done <"$work/order"
# this run's times, and the earlier ones of cases it did not run (another spec's, on the same binary)
[ -f "$times" ] || : >"$times" 2>/dev/null || true
awk -F'\t' 'FNR == NR { run[$1] = 1; print; next } !($1 in run)' "$work/times" "$times" >"$work/merged" 2>/dev/null &&
  cp "$work/merged" "$times" 2>/dev/null || true
slowest=$(sort -t$'\t' -k2,2gr "$work/times" | head -3 | awk -F'\t' '{ printf "%s%s %s s", (NR > 1 ? "; " : ""), $1, $2 }')
if [ "$failed" -eq 0 ] && [ "$ran" -eq "$total" ]; then
  echo "All $total test cases passed, $jobs at a time (slowest: $slowest)"
else
  echo "$failed of $total test cases FAILED"
  exit 1
fi
