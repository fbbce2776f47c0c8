#!/usr/bin/env bash
# `npm run demo`: the end-to-end demo on the local stack, with every set-up step done here.
#   1. set-up: npm ci (when needed), the Python venv, the build
#   2. starts a real MLflow tracking server and moto (S3, CloudWatch) on free loopback ports
#   3. writes a demo project (git repo + mlops.config.yaml pointing at them) in a temp folder
#   4. runs the pipeline commands that exist today, and says which ones are not built yet
#   5. stops everything it started, also on Ctrl-C or an error
# Options: --keep   keep the servers running after the demo until Ctrl-C (to browse MLflow).
# The demo grows as commands land: add each step where the pipeline section says so.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV_BIN="$ROOT/.venv/bin"

KEEP=0
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) printf 'demo: unknown option %s (try --help)\n' "$arg" >&2; exit 2 ;;
  esac
done

if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then
  say() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
else
  say() { printf '\n==> %s\n' "$*" >&2; }
fi
log() { printf '    %s\n' "$*" >&2; }

# --- clean-up: whatever was started is stopped, whichever way the script ends ----------------
PGIDS=()
WORK=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ "${#PGIDS[@]}" -gt 0 ]; then
    say "stopping the servers"
    for pg in "${PGIDS[@]}"; do kill -TERM -- "-$pg" 2>/dev/null || true; done
    for _ in $(seq 1 20); do
      local alive=0
      for pg in "${PGIDS[@]}"; do kill -0 -- "-$pg" 2>/dev/null && alive=1; done
      [ "$alive" = 0 ] && break
      sleep 0.5
    done
    for pg in "${PGIDS[@]}"; do kill -KILL -- "-$pg" 2>/dev/null || true; done
  fi
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "$status" = 0 ] || [ "$status" = 130 ]; then
      rm -rf "$WORK"
    else
      log "kept for inspection: $WORK (server logs in $WORK/logs)"
    fi
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. set-up ---------------------------------------------------------------------------------
say "set-up (npm ci when needed, Python venv, build)"
if [ -L node_modules ]; then
  # npm ci empties the folder a symlink points to (another checkout's node_modules): never here.
  log "node_modules is a symlink: skipping npm ci"
elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/setup-venv.sh
npm run --silent build

# --- 2. servers --------------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mlops-demo.XXXXXX")"
mkdir -p "$WORK/logs" "$WORK/mlflow/artifacts" "$WORK/project"

free_port() { "$VENV_BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Each server leads its own process group (so the whole tree can be stopped); os.setsid works
# on Linux and macOS alike, unlike the setsid program.
start_server() { # name log argv...
  local name=$1 logf=$2
  shift 2
  "$VENV_BIN/python" -c 'import os, sys; os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])' "$@" >"$logf" 2>&1 </dev/null &
  PGIDS+=("$!")
  log "$name: pid $! (log: $logf)"
}

wait_ready() { # name url timeout_s log
  local name=$1 url=$2 timeout=$3 logf=$4 waited=0
  until node -e 'fetch(process.argv[1], {signal: AbortSignal.timeout(2000)}).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url"; do
    sleep 0.5
    waited=$((waited + 1))
    if [ "$waited" -gt $((timeout * 2)) ]; then
      printf 'demo: %s did not answer %s within %ss; its log:\n' "$name" "$url" "$timeout" >&2
      tail -n 40 "$logf" >&2
      exit 3
    fi
  done
  log "$name ready: $url"
}

say "starting MLflow and moto on loopback"
MLFLOW_PORT=$(free_port)
MOTO_PORT=$(free_port)
MLFLOW_URL="http://127.0.0.1:$MLFLOW_PORT"
MOTO_URL="http://127.0.0.1:$MOTO_PORT"
# MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false: MLflow 3 otherwise starts seven job consumers.
MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false start_server mlflow "$WORK/logs/mlflow.log" \
  "$VENV_BIN/mlflow" server --host 127.0.0.1 --port "$MLFLOW_PORT" --workers 1 \
  --backend-store-uri "sqlite:///$WORK/mlflow/mlflow.db" \
  --serve-artifacts --artifacts-destination "$WORK/mlflow/artifacts"
start_server moto "$WORK/logs/moto.log" "$VENV_BIN/moto_server" -H 127.0.0.1 -p "$MOTO_PORT"
wait_ready moto "$MOTO_URL/moto-api/" 30 "$WORK/logs/moto.log"
wait_ready mlflow "$MLFLOW_URL/health" 90 "$WORK/logs/mlflow.log"

# --- 3. the demo project -----------------------------------------------------------------------
say "demo project in $WORK/project"
PROJECT="$WORK/project"
git -C "$PROJECT" init -q
cat >"$PROJECT/mlops.config.yaml" <<'YAML'
# Demo config: the local MLflow and moto started by scripts/demo.sh (URLs come from the env).
version: 1
project: demo
mlflow:
  trackingUri: ${MLFLOW_TRACKING_URI}
  experiment: demo
  registeredModel: demo-model
compare:
  baseline:
    alias: production
  gates:
    - metric: accuracy
      direction: higher
      maxRelativeDrop: 0.01
aws:
  region: us-east-1
  endpoints:
    s3: ${MLOPS_DEMO_MOTO_URL}
    cloudwatch: ${MLOPS_DEMO_MOTO_URL}
YAML
log "mlops.config.yaml written"

export MLFLOW_TRACKING_URI="$MLFLOW_URL"
export MLOPS_DEMO_MOTO_URL="$MOTO_URL"
# Dummy credentials that only moto accepts; nothing here reaches AWS.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

mlops() { node "$ROOT/bin/mlops.js" --cwd "$PROJECT" "$@"; }
HELP="$(node "$ROOT/bin/mlops.js" --help 2>&1 || true)"
has_command() { printf '%s\n' "$HELP" | grep -Eq "^[[:space:]]+$1([[:space:]]|\$)"; }
run_step() { # title argv...
  local title=$1
  shift
  say "$title: mlops $*"
  mlops "$@"
}

# --- 4. the pipeline, as far as it is built ----------------------------------------------------
run_step "check the config" config validate
run_step "the resolved config" config show
if has_command doctor; then
  run_step "environment checks" doctor
fi
# Steps still being built; each one moves above this line, with whatever it needs, when it lands.
NOT_YET=()
for cmd in pull train compare promote monitor rollback; do
  has_command "$cmd" || NOT_YET+=("$cmd")
done
if [ "${#NOT_YET[@]}" -gt 0 ]; then
  say "not in the demo yet: ${NOT_YET[*]} (being built)"
fi

# --- 5. where things are -----------------------------------------------------------------------
say "where things are"
log "MLflow UI and API:  $MLFLOW_URL"
log "moto (S3, CloudWatch): $MOTO_URL"
log "demo project:       $PROJECT"
log "server logs:        $WORK/logs"
if [ "$KEEP" = 1 ]; then
  say "servers keep running; press Ctrl-C to stop them"
  while true; do sleep 3600; done
fi
say "demo finished"
