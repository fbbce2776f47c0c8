#!/usr/bin/env bash
# What `npm test` runs. On a fresh clone it does every set-up step itself:
#   npm ci (when node_modules is missing or older than package-lock.json), the typecheck, ESLint
#   and the Prettier check, the Python venv of the test bed, the build, then `vitest run` with any
#   extra arguments passed through.
# Exit code: vitest's (or the failing set-up step's).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '[test] %s\n' "$*" >&2; }

# npm writes node_modules/.package-lock.json on every install, so its age tells whether
# node_modules matches the committed lockfile.
if [ -L node_modules ]; then
  # npm ci empties the folder a symlink points to (another checkout's node_modules): never here.
  log "node_modules is a symlink: skipping npm ci"
elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi

# Static checks first: they fail in seconds, before the slow set-up.
log "typecheck, lint (ESLint + typescript-eslint), format check (Prettier)"
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check

bash scripts/setup-venv.sh

log "npm run build"
npm run --silent build

# Tool set-up for other parts of the test suite goes here (one line each).
bash scripts/setup-actionlint.sh   # actionlint for the init tests when it can be had (optional: see the script)

log "vitest run $*"
exec npx --no-install vitest run "$@"
