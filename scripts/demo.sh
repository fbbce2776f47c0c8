#!/usr/bin/env bash
# `npm run demo`: the whole pipeline on the local stack, with every set-up step done here.
#   1. set-up (bash, as nothing is built yet): npm ci when needed, the Python venv, the build
#   2. `node dist/demo/run.js`: starts a real MLflow server, moto (S3, CloudWatch) and the
#      SageMaker emulator on loopback, and plays src/demo/scenario.ts in a new git repository made
#      by `mlops init` in a temp folder: pull the data (DVC); train a first model and deploy it
#      (production alias); a worse candidate blocked by compare (exit 1); a better one passing;
#      promote it through shadow, bake and canary while traffic flows; shift the live inputs and
#      let monitor detect the drift and roll back; then a summary (MLflow UI, the endpoint, the
#      audit trail, the time each step took). The same scenario is the end-to-end test
#      (test/e2e/pipeline.test.ts).
#   3. stops everything it started, also on Ctrl-C or an error.
# Exit code: 0 when every step behaved as expected (the blocked regression included), 1 when one
# did not, 130 when interrupted.
# Options: --keep   keep the servers running after the demo until Ctrl-C (to browse MLflow).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

for arg in "$@"; do
  case "$arg" in
    --keep) ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) printf 'demo: unknown option %s (try --help)\n' "$arg" >&2; exit 2 ;;
  esac
done

if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then
  say() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
else
  say() { printf '\n==> %s\n' "$*" >&2; }
fi
log() { printf '    %s\n' "$*" >&2; }

say "set-up (npm ci when needed, Python venv, build)"
if [ -L node_modules ]; then
  # npm ci empties the folder a symlink points to (another checkout's node_modules): never here.
  log "node_modules is a symlink: skipping npm ci"
elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/setup-venv.sh
npm run --silent build

# The AWS SDK warns on every client about Node 20's end of support; the demo does not need it.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
# exec: node gets Ctrl-C itself and stops the servers before it exits.
exec node dist/demo/run.js "$@"
