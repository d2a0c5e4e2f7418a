#!/usr/bin/env bash
# Builds KubeFed v0.10.0's controller-manager and kubefedctl (the benchmark's peer) from the Go module
# sigs.k8s.io/kubefed@v0.10.0 into the fedctl cache, once; a second run reuses them.
# Usage: build.sh [--print-dir]   Not part of `make test`: `make kubefed` runs it.
set -euo pipefail

KUBEFED_VERSION=v0.10.0

GO_BUILD_TAG=kubefed-build
# shellcheck source=testbed/go-build-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../testbed/go-build-env.sh"
BIN="$CACHE/bin/kubefed-$KUBEFED_VERSION"
go_build_setup "$@"

# `go install sigs.k8s.io/kubefed/cmd/...@v0.10.0` would do, but it first asks the proxy for the
# module's version list (to look for a deprecation notice), and proxy.golang.org answers that list
# with 403 for sigs.k8s.io/kubefed. A wrapper module requiring exactly v0.10.0 builds the same
# packages with the versions kubefed's own go.mod pins (it has no replace directives; it declares
# go 1.16, so its whole module graph is used unpruned, as in its own build).
if ! have controller-manager kubefedctl; then
  d="$WORK/kubefed-$KUBEFED_VERSION"; mkdir -p "$d/out"
  cat >"$d/go.mod" <<MOD
module fedctl.local/kubefed
go 1.26
require sigs.k8s.io/kubefed $KUBEFED_VERSION
MOD
  # The wrapper needs a package of its own for `go build` to run in module mode here.
  cat >"$d/main.go" <<'GO'
package main

func main() {}
GO
  ver="-X sigs.k8s.io/kubefed/pkg/version.version=$KUBEFED_VERSION -X sigs.k8s.io/kubefed/pkg/version.gitTreeState=clean"
  go_build_in kubefed "$d" "$d/build.log" -- -mod=mod -ldflags "-s -w $ver" -o "$d/out/" \
    sigs.k8s.io/kubefed/cmd/controller-manager sigs.k8s.io/kubefed/cmd/kubefedctl
  for b in controller-manager kubefedctl; do mv "$d/out/$b" "$BIN/$b"; done
fi

# The Helm chart's CRDs and default FederatedTypeConfigs, as shipped in the same module, copied beside
# the binaries so the peer does not depend on the module cache staying around (see README.md).
if [[ ! -f "$BIN/chart/federatedtypeconfig.yaml" ]]; then
  step "copying the chart's CRDs and FederatedTypeConfigs"
  log="$WORK/kubefed-$KUBEFED_VERSION-download.log"
  dir=$(go mod download -json "sigs.k8s.io/kubefed@$KUBEFED_VERSION" 2>"$log" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -n "$dir" && -d "$dir/charts/kubefed" ]] || fail kubefed "go mod download sigs.k8s.io/kubefed@$KUBEFED_VERSION gave no module folder" "$log"
  mkdir -p "$BIN/chart"
  # Module files are read-only; the copies need not be.
  install -m 0644 "$dir/charts/kubefed/charts/controllermanager/crds/crds.yaml" "$BIN/chart/core-crds.yaml"
  install -m 0644 "$dir/charts/kubefed/crds/crds.yaml" "$BIN/chart/federated-crds.yaml"
  install -m 0644 "$dir/charts/kubefed/templates/federatedtypeconfig.yaml" "$BIN/chart/federatedtypeconfig.yaml"
fi

step "KubeFed $KUBEFED_VERSION ready in $BIN"
echo "$BIN"
