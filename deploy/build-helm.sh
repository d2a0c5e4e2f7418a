#!/usr/bin/env bash
# Builds Helm from its Go module into the same cache as the testbed binaries (~/.cache/fedctl), keyed
# by version, so a second run reuses it. Prints the helm binary's path. Usage: build-helm.sh
set -euo pipefail

HELM_VERSION=v4.3.1

CACHE="${FEDCTL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fedctl}"
BIN="$CACHE/bin/helm-$HELM_VERSION"
if [[ -x "$BIN/helm" ]]; then echo "$BIN/helm"; exit 0; fi

command -v go >/dev/null || { echo "build-helm: 'go' not found: is the Go toolchain (>= 1.26) installed?" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
mkdir -p "$BIN" "$CACHE/work"
log="$CACHE/work/helm-$HELM_VERSION.log"

# One build at a time (parallel test files may all ask for it); a second caller waits, then finds it.
exec 9>"$CACHE/helm.lock"
flock 9
if [[ ! -x "$BIN/helm" ]]; then
  echo "[build-helm] $(date +%H:%M:%S) building helm $HELM_VERSION (log $log)" >&2
  t0=$SECONDS
  # helm.sh/helm has no replace directives, so go install @version builds it with its own pins; the
  # version variable makes `helm version` report the real version instead of a dev string.
  if ! GOBIN="$BIN" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" >"$log" 2>&1; then
    echo "[build-helm] FAILED: go install helm.sh/helm/v4/cmd/helm@$HELM_VERSION (log: $log)" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  echo "[build-helm] $(date +%H:%M:%S) built helm in $((SECONDS - t0))s" >&2
fi
echo "$BIN/helm"
