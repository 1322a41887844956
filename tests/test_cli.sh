#!/usr/bin/env bash
# The y26 program's contract: results on stdout, errors as ONE line on stderr with
# exit code 2, and no output file (not even a temporary one) after a failure.
set -u
Y26="$1"
FIX="$2"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# expect_error NAME EXPECTED_SUBSTRING -- command...
expect_error() {
  local name="$1" want="$2"; shift 3
  "$@" >"$TMP/stdout" 2>"$TMP/err"; local rc=$?
  local lines; lines=$(wc -l <"$TMP/err")
  if [ "$rc" -ne 2 ]; then bad "$name: exit $rc, expected 2"; return; fi
  if [ "$lines" -ne 1 ]; then bad "$name: $lines lines on stderr"; cat "$TMP/err"; return; fi
  if ! grep -qF -- "$want" "$TMP/err"; then bad "$name: stderr lacks '$want': $(cat "$TMP/err")"; return; fi
  ok
}

"$Y26" info -w "$FIX/yolo26n-rand.pt" >"$TMP/info" 2>&1 && grep -q "parameters:  2,572,280" "$TMP/info" && ok || bad "info on the fixture"
"$Y26" --help >/dev/null && ok || bad "--help"

expect_error "missing file" "$TMP/nope.pt: cannot open" -- "$Y26" info -w "$TMP/nope.pt"
expect_error "no weights" "--weights: required option is missing" -- "$Y26" info
expect_error "unknown option" "--bogus: unknown option" -- "$Y26" info --bogus
expect_error "unknown command" "'frobnicate' is not a y26 command" -- "$Y26" frobnicate
expect_error "non-model file" "not a model file" -- "$Y26" info -w "$FIX/scenes.json"

head -c 2000000 "$FIX/yolo26n-rand.pt" >"$TMP/trunc.pt"
mkdir "$TMP/out"
expect_error "convert truncated" "$TMP/trunc.pt:" -- "$Y26" convert "$TMP/trunc.pt" "$TMP/out/m.safetensors"
[ -z "$(ls -A "$TMP/out")" ] && ok || bad "convert left files behind: $(ls "$TMP/out")"
expect_error "convert into a missing dir" "cannot create" -- "$Y26" convert "$FIX/yolo26n-rand.pt" "$TMP/no/such/dir/m.safetensors"
expect_error "convert bad suffix" "must end in .safetensors" -- "$Y26" convert "$FIX/yolo26n-rand.pt" "$TMP/out/m.bin"

"$Y26" convert "$FIX/yolo26l-thin-nc5-rand.pt" "$TMP/out/m.safetensors" >/dev/null && ok || bad "convert"
"$Y26" info -w "$TMP/out/m.safetensors" | grep -q "classes:     5 (apple" && ok || bad "info on converted file"
[ "$(ls -A "$TMP/out")" = "m.safetensors" ] && ok || bad "convert left extra files: $(ls "$TMP/out")"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
