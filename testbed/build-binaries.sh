#!/usr/bin/env bash
# Builds the testbed's control-plane binaries from their Go modules into a cache outside the repo,
# keyed by version, so a second run reuses them. Usage: build-binaries.sh [--print-dir]
# Versions are pinned here; testbed/binaries.ts reads the same file for the cache path.
set -euo pipefail

K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
COREDNS_VERSION=v1.14.7
KWOK_VERSION=v0.8.0

GO_BUILD_TAG=build-binaries
# shellcheck source=testbed/go-build-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-build-env.sh"
BIN="$CACHE/bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-coredns-$COREDNS_VERSION-kwok-$KWOK_VERSION"
go_build_setup "$@"

# etcd: its server module has replace directives, so go install @version fails; a one-line main
# calling etcdmain.Main in our own module builds with the versions its requires pin.
if ! have etcd; then
  d="$WORK/etcd-$ETCD_VERSION"; mkdir -p "$d"
  cat >"$d/go.mod" <<MOD
module fedctl.local/etcd
go 1.26
require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
  cat >"$d/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$d" && go mod tidy) >"$d/tidy.log" 2>&1 || fail etcd "go mod tidy failed (module $ETCD_VERSION)" "$d/tidy.log"
  go_build_in etcd "$d" "$d/build.log" -- -ldflags "-s -w" -o "$BIN/etcd" .
fi

# CoreDNS and kwok have no replace directives: plain go install works.
gi() {
  local name=$1 pkg=$2 log="$WORK/$1.log"
  step "installing $name ($pkg)"
  local t0=$SECONDS
  GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "$pkg" >"$log" 2>&1 || fail "$name" "go install failed" "$log"
  step "installed $name in $((SECONDS - t0))s"
}
have coredns || gi coredns "github.com/coredns/coredns@$COREDNS_VERSION"
have kwok || gi kwok "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"

# Kubernetes: k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local
# paths, which only work inside its repo. A wrapper module replaces each with its published v0.X.Y.
if ! have kube-apiserver kube-controller-manager kube-scheduler; then
  d="$WORK/kubernetes-$K8S_VERSION"; mkdir -p "$d"
  staging_version="v0.${K8S_VERSION#v1.}"
  step "resolving k8s.io/kubernetes $K8S_VERSION"
  modfile=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>"$d/download.log" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [[ -n "$modfile" ]] || fail kubernetes "go mod download k8s.io/kubernetes@$K8S_VERSION failed" "$d/download.log"
  {
    echo "module fedctl.local/kubernetes"
    echo "go 1.26"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    awk '$2 == "v0.0.0" && $1 ~ /^k8s\.io\// {print $1}' "$modfile" | sort -u | while read -r m; do
      echo "replace $m => $m $staging_version"
    done
  } >"$d/go.mod"
  # A blank-import file so go mod tidy records every module the three commands need.
  cat >"$d/tools.go" <<'GO'
//go:build tools

package tools
GO
  cat >"$d/main.go" <<'GO'
package main

func main() {}
GO
  pkgs=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
  ver="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  major=${K8S_VERSION#v}; minor=${major#*.}; minor=${minor%%.*}; major=${major%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ver+=" -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$d/out"
  go_build_in kubernetes "$d" "$d/build.log" -- -mod=mod -ldflags "-s -w $ver" -o "$d/out/" "${pkgs[@]}"
  for b in kube-apiserver kube-controller-manager kube-scheduler; do mv "$d/out/$b" "$BIN/$b"; done
fi

step "binaries ready in $BIN"
echo "$BIN"
