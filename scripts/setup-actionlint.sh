#!/usr/bin/env bash
# Installs actionlint into .tools/bin (idempotent: does nothing when the pinned version is there).
# The init tests lint the GitHub workflow that `mlops init` writes with it.
# Needs Go (the module proxy); set ACTIONLINT_VERSION to pin another release.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${ACTIONLINT_VERSION:-v1.7.7}"
BIN="$ROOT/.tools/bin/actionlint"

if [ -x "$BIN" ] && [ "$("$BIN" -version 2>/dev/null | head -n1)" = "$VERSION" ]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "[setup-actionlint] go is not installed: cannot install actionlint $VERSION into .tools/bin" >&2
  exit 1
fi
echo "[setup-actionlint] go install github.com/rhysd/actionlint/cmd/actionlint@$VERSION" >&2
mkdir -p "$ROOT/.tools/bin"
GOBIN="$ROOT/.tools/bin" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$VERSION"
