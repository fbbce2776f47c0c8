#!/usr/bin/env bash
# Creates or updates the project-local Python environment (.venv) that holds the test bed's
# peers (mlflow, dvc, moto[server], scikit-learn...) from testbed/requirements.txt.
# Idempotent and fast when nothing changed: the SHA-256 of the requirements file is stored in
# .venv/.requirements.sha256 and the install is skipped while it matches.
# Environment: PYTHON (interpreter to build the venv with, default python3), MLOPS_VENV (venv dir),
# MLOPS_VENV_LOCK (lock file, default .tmp/setup-venv.lock; `mlops sandbox up` puts it beside its
# venv, as an installed package's folder may not be writable). The one implementation of the
# venv set-up: `mlops sandbox up` runs this script too (it ships in the npm package).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MLOPS_VENV:-$ROOT/.venv}"
REQ="$ROOT/testbed/requirements.txt"
PY="${PYTHON:-python3}"
STAMP="$VENV/.requirements.sha256"

log() { printf '[setup-venv] %s\n' "$*" >&2; }
die() { printf '[setup-venv] error: %s\n' "$*" >&2; exit 1; }

[ -f "$REQ" ] || die "missing $REQ"

# The hash is computed with Python so the script needs neither sha256sum nor shasum.
sha256_of() { "$1" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$2"; }

venv_ok() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; }

# Fast path: an intact venv made from exactly this requirements file.
if venv_ok && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(sha256_of "$VENV/bin/python" "$REQ")" ]; then
  log "up to date: $VENV"
  exit 0
fi

# Two set-ups at once (npm test and npm run demo) must not install into the same venv together.
if command -v flock >/dev/null 2>&1 && [ -z "${MLOPS_VENV_LOCKED:-}" ]; then
  LOCK="${MLOPS_VENV_LOCK:-$ROOT/.tmp/setup-venv.lock}"
  mkdir -p "$(dirname "$LOCK")"
  exec 9>"$LOCK"
  if ! flock -n 9; then
    log "another set-up is running; waiting for it ($LOCK)"
    flock 9
  fi
  export MLOPS_VENV_LOCKED=1
  # Another process may have finished the work while we waited.
  if venv_ok && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(sha256_of "$VENV/bin/python" "$REQ")" ]; then
    log "up to date: $VENV"
    exit 0
  fi
fi

py_ok() { command -v "$1" >/dev/null 2>&1 && "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; }

if ! venv_ok; then
  if [ -z "${PYTHON:-}" ] && ! py_ok "$PY"; then
    # python3 is missing or older than 3.11: take a newer interpreter when one is installed.
    for candidate in python3.14 python3.13 python3.12 python3.11; do
      if py_ok "$candidate"; then PY=$candidate; break; fi
    done
  fi
  command -v "$PY" >/dev/null 2>&1 || die "$PY not found; install Python >= 3.11 (or set PYTHON=/path/to/python3)"
  py_ok "$PY" || die "$("$PY" --version 2>&1 | head -n 1) is too old or not Python; Python >= 3.11 is needed (set PYTHON=/path/to/python3.11+)"
  if [ -e "$VENV" ]; then
    # Only a venv (pyvenv.cfg) or an empty folder is removed: `mlops sandbox up --venv DIR` or
    # MLOPS_SANDBOX_VENV naming a project folder or a file by mistake must never delete it.
    if [ -f "$VENV/pyvenv.cfg" ] || { [ -d "$VENV" ] && [ -z "$(ls -A "$VENV")" ]; }; then
      log "removing broken venv at $VENV"
      rm -rf "$VENV"
    else
      die "$VENV exists and is not a Python virtual environment (no pyvenv.cfg), so it was left as it is; name a new or empty folder, or an existing venv"
    fi
  fi
  log "creating venv at $VENV with $("$PY" --version 2>&1)"
  "$PY" -m venv "$VENV" || die "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
else
  "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || die "$VENV uses $("$VENV/bin/python" --version 2>&1); remove it and run this script again with Python >= 3.11"
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
rm -f "$STAMP"
log "upgrading pip"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
log "installing $(grep -cvE '^[[:space:]]*(#|$)' "$REQ") pinned packages from testbed/requirements.txt (first time: a few minutes)"
# --root-user-action: CI runs as root inside a throwaway container; the warning is noise there.
"$VENV/bin/python" -m pip install --quiet --root-user-action=ignore -r "$REQ"
sha256_of "$VENV/bin/python" "$REQ" >"$STAMP"
log "ready: $VENV ($("$VENV/bin/mlflow" --version 2>/dev/null || echo 'mlflow ?'))"
