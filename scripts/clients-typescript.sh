#!/usr/bin/env bash
# The bot teams' TypeScript client, from SCHEMA_FILE (scripts/clients.sh passes build/clients/openapi.yaml):
#   1. npm ci in clients/typescript (the pinned openapi-typescript, openapi-fetch and typescript of its
#      package-lock.json; node_modules is ignored by git);
#   2. openapi-typescript writes build/clients/typescript/schema.d.ts;
#   3. tsc --strict --noEmit checks those types with the code that uses them: the node smoke test
#      (clients/typescript/smoke.mjs) and examples/bot.mjs, both JSDoc-typed (clients/typescript/tsconfig.json).
# Any generator warning or type error fails the run (exit 1, the messages shown).
# Usage: scripts/clients-typescript.sh SCHEMA_FILE
set -uo pipefail

fail() {
  echo "clients-typescript.sh: $*" >&2
  exit 1
}

[ $# -eq 1 ] && [ -f "$1" ] || fail "usage: scripts/clients-typescript.sh SCHEMA_FILE (an OpenAPI schema file)"
SCHEMA=$(realpath "$1")
cd "$(dirname "$0")/.."
PACKAGE=clients/typescript
OUT=build/clients/typescript
BIN=$PACKAGE/node_modules/.bin

command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are needed (node 20 or newer)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || fail "node $(node --version) is too old: the client needs node 20 or newer (its global fetch)"

# One run at a time: npm ci empties node_modules, which a run alongside would be reading.
exec 9<"$PACKAGE/package-lock.json"
if command -v flock >/dev/null; then flock 9; fi
(cd "$PACKAGE" && npm ci --no-audit --no-fund) || fail "npm ci failed in $PACKAGE"

rm -rf "$OUT"
mkdir -p "$OUT"
# openapi-typescript prints its warnings (⚠) and errors (✘) on stderr, and exits 0 after a warning:
# anything at all on stderr fails the run.
"$BIN/openapi-typescript" "$SCHEMA" --output "$OUT/schema.d.ts" 2>"$OUT/generator.log"
status=$?
cat "$OUT/generator.log" >&2
warnings=$(grep -c . "$OUT/generator.log")
echo "openapi-typescript: exit $status, $warnings warning or error line(s)"
[ "$status" -eq 0 ] && [ "$warnings" -eq 0 ] || fail "openapi-typescript did not generate cleanly (messages above)"

tsc_output=$("$BIN/tsc" -p "$PACKAGE" --strict --noEmit --pretty false 2>&1)
status=$?
[ -n "$tsc_output" ] && echo "$tsc_output"
errors=$(grep -c "error TS" <<<"$tsc_output")
echo "tsc --strict: exit $status, $errors error(s) in $OUT/schema.d.ts, $PACKAGE/smoke.mjs, examples/bot.mjs"
[ "$status" -eq 0 ] && [ -z "$tsc_output" ] || fail "tsc --strict found type errors (above)"

echo "clients-typescript.sh: generated $OUT/schema.d.ts from $1"
