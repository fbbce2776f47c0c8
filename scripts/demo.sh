#!/usr/bin/env bash
# `npm run demo`: the end-to-end demo on the local stack, with every set-up step done here.
#   1. set-up: npm ci (when needed), the Python venv, the build
#   2. starts a real MLflow tracking server and moto (S3, CloudWatch) on free loopback ports
#   3. in a new git repo in a temp folder: mlops init, config validate, doctor; DVC data pushed to a
#      local-folder remote; mlops pull; mlops train; mlops compare (first model: no baseline);
#      mlops profile + monitor on simulated capture files (like the holdout: no drift; shifted:
#      drift, exit 1); then a deliberately worse model, which the merge gate must block (exit 1)
#   4. says which steps are not in the demo yet, and where everything is
#   5. stops everything it started, also on Ctrl-C or an error
# Exit code: 0 when every step behaved as expected (the blocked regression included).
# Options: --keep   keep the servers running after the demo until Ctrl-C (to browse MLflow).
# The demo grows as commands land: add each step where section 3 says so.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV_BIN="$ROOT/.venv/bin"

KEEP=0
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
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

# --- 3. the demo project: what a team does on day one -----------------------------------------
PROJECT="$WORK/project"
DVC_REMOTE="$WORK/dvc-remote"
mkdir -p "$DVC_REMOTE"
export MLFLOW_TRACKING_URI="$MLFLOW_URL"
export MLOPS_DEMO_MOTO_URL="$MOTO_URL"
# Dummy credentials that only moto accepts; nothing here reaches AWS.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
# The scaffold's training command is `python src/train.py`, and `dvc` is a tool like git: both
# come from the project's venv here (a team uses its own environment).
export PATH="$VENV_BIN:$PATH"
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.invalid GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.invalid

mlops() { node "$ROOT/bin/mlops.js" --cwd "$PROJECT" "$@"; }
step() { say "$*"; }
in_project() { (cd "$PROJECT" && "$@"); }

step "a new git repository for the demo: $PROJECT"
git init -q -b main "$PROJECT" 2>/dev/null || { git init -q "$PROJECT" && git -C "$PROJECT" checkout -q -b main; }

step "mlops init: config, CI workflow, training code, DVC stage, IAM policy"
mlops init --name demo --ci github

step "the config's AWS endpoints point at moto (S3 for state, CloudWatch for drift metrics)"
# The YAML document API keeps init's comments.
(cd "$ROOT" && node -e '
  const fs = require("node:fs"), YAML = require("yaml");
  const file = process.argv[1], doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
  doc.setIn(["aws", "endpoints", "s3"], "${MLOPS_DEMO_MOTO_URL}");
  doc.setIn(["aws", "endpoints", "cloudwatch"], "${MLOPS_DEMO_MOTO_URL}");
  fs.writeFileSync(file, String(doc));
' "$PROJECT/mlops.config.yaml")
"$VENV_BIN/python" -c 'import boto3, sys; boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1").create_bucket(Bucket=sys.argv[2])' "$MOTO_URL" demo-mlops
log "aws.endpoints.s3/cloudwatch: \${MLOPS_DEMO_MOTO_URL} ($MOTO_URL); bucket demo-mlops created in moto"

step "mlops config validate"
mlops config validate

step "mlops doctor: tools, config, MLflow and AWS (here moto) must all answer"
mlops doctor

step "DVC: the data is made by the scaffold's prepare stage and pushed to a local-folder remote"
in_project dvc init -q
in_project dvc remote add -q -d storage "$DVC_REMOTE"
in_project dvc repro -q prepare
in_project dvc push -q
in_project git add -A
in_project git commit -q -m "mlops init + data"
rm -f "$PROJECT/data/raw.csv"
log "data/raw.csv deleted locally; pulling it back"

step "mlops pull"
mlops pull

step "mlops train: the scaffolded src/train.py as a tracked MLflow run"
BASELINE_RUN="$(mlops train)"
log "baseline run: $BASELINE_RUN ($MLFLOW_URL/#/experiments)"

step "mlops compare: the first model has no production baseline yet (policy: pass)"
mlops compare

step "mlops profile: the drift baseline of the holdout set train.py wrote"
mlops profile data/holdout.csv --label target --prediction prediction --out .mlops/profile.json

# There is no endpoint in the demo yet, so its traffic is simulated: capture files in SageMaker's
# data-capture format, rows drawn from the holdout set (optionally scaled), stamped "now".
cat >"$WORK/make-capture.py" <<'PY'
import csv, datetime, json, os, random, sys
holdout, out, scale = sys.argv[1], sys.argv[2], float(sys.argv[3])
rows = list(csv.DictReader(open(holdout)))
inputs = [c for c in rows[0] if c not in ("target", "prediction")]
rng = random.Random(7)
now = datetime.datetime.now(datetime.timezone.utc)
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "capture.jsonl"), "w") as f:
    for i in range(400):
        r = rng.choice(rows)
        t = (now - datetime.timedelta(seconds=400 - i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        f.write(json.dumps({
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "encoding": "CSV",
                                  "data": ",".join(str(float(r[c]) * scale) for c in inputs)},
                "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "encoding": "CSV",
                                   "data": r["prediction"]},
            },
            "eventMetadata": {"eventId": "e%d" % i, "inferenceTime": t},
            "eventVersion": "0",
        }) + "\n")
PY
"$VENV_BIN/python" "$WORK/make-capture.py" "$PROJECT/data/holdout.csv" "$WORK/capture-like" 1.0
"$VENV_BIN/python" "$WORK/make-capture.py" "$PROJECT/data/holdout.csv" "$WORK/capture-shifted" 1.3

step "mlops monitor on simulated traffic like the holdout: no drift (exit 0)"
mlops monitor --baseline .mlops/profile.json --capture-dir "$WORK/capture-like" --since 1h --no-rollback

step "mlops monitor on simulated traffic with inputs 30% larger: drift (exit 1)"
set +e
mlops monitor --baseline .mlops/profile.json --capture-dir "$WORK/capture-shifted" --since 1h --no-rollback
drift=$?
set -e
if [ "$drift" = 1 ]; then
  series=$("$VENV_BIN/python" -c 'import boto3, sys; print(len(boto3.client("cloudwatch", endpoint_url=sys.argv[1], region_name="us-east-1").list_metrics(Namespace="mlops")["Metrics"]))' "$MOTO_URL")
  [ "$series" -gt 0 ] || { log "expected drift metrics in CloudWatch (moto), found none"; exit 1; }
  log "drift detected (exit 1); CloudWatch (moto) holds $series metric series in namespace mlops"
  log "with an endpoint, consecutive drifting windows roll it back"
else
  log "expected exit 1 from monitor, got $drift"
  exit 1
fi

step "a bad change: the model is regularised far too hard (C=1.0 -> C=0.0001)"
sed -i.bak 's/"C": 1.0,/"C": 0.0001,/' "$PROJECT/src/train.py" && rm -f "$PROJECT/src/train.py.bak"
grep -q '"C": 0.0001,' "$PROJECT/src/train.py" || { log "could not edit src/train.py"; exit 1; }
in_project git commit -q -am "make the model worse"
CANDIDATE_RUN="$(mlops train)"
log "candidate run: $CANDIDATE_RUN"

step "mlops compare against the baseline run: the merge gate must say no (exit 1)"
set +e
mlops compare --baseline "run:$BASELINE_RUN"
gate=$?
set -e
if [ "$gate" = 1 ]; then
  log "the gate blocked the regression (exit 1), as CI would"
else
  log "expected exit 1 from the gate, got $gate"
  exit 1
fi

# Next steps of the pipeline go here as they can run on the local stack.
say "not in the demo yet: promote, rollback, and monitor of a live endpoint (they need the SageMaker emulator wired in)"

# --- 5. where things are -----------------------------------------------------------------------
say "where things are"
log "MLflow UI and API:  $MLFLOW_URL"
log "moto (S3, CloudWatch): $MOTO_URL"
log "demo project:       $PROJECT (DVC remote: $DVC_REMOTE)"
log "server logs:        $WORK/logs"
[ "$KEEP" = 1 ] || log "(all of it is stopped and removed when the demo ends; npm run demo -- --keep to browse it)"
if [ "$KEEP" = 1 ]; then
  say "servers keep running; press Ctrl-C to stop them"
  while true; do sleep 3600; done
fi
say "demo finished"
