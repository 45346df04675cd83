#!/usr/bin/env bash
# The one test command: type-check, lint, then every test file (unit tests beside the code,
# end-to-end tests under test/). node:test on Node 20 finds 0 tests without explicit files,
# so the list is built here and an empty list fails.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== tsc --noEmit"
npx tsc --noEmit
echo "== biome check"
npx biome check --error-on-warnings src test bench scripts
mapfile -t files < <(find src test -name '*.test.ts' | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
echo "== node --test (${#files[@]} files)"
# One file at a time keeps tests that share the local broker from stepping on each other.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
