#!/usr/bin/env bash
# Provision kube-apiserver, etcd and kubectl for the integration tests, built from the Go module
# proxy (release sites are not reachable here). The result is cached by version outside the
# checkout so only the first run pays for the build.
#
# Usage: hack/envtest/provision.sh            prints the assets folder (KUBEBUILDER_ASSETS)
# Env:   K8S_VERSION (default below), ENVTEST_CACHE (default ~/.cache/agent-identity-operator/envtest)
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
CACHE_ROOT="${ENVTEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agent-identity-operator/envtest}"
ASSETS="$CACHE_ROOT/k8s-$K8S_VERSION"

if [[ -x "$ASSETS/kube-apiserver" && -x "$ASSETS/etcd" && -x "$ASSETS/kubectl" ]]; then
  echo "$ASSETS"
  exit 0
fi

command -v go >/dev/null || { echo "provision: go is required to build kube-apiserver and etcd" >&2; exit 1; }

log() { echo "[envtest $(date +%H:%M:%S)] $*" >&2; }

minor="${K8S_VERSION#v1.}"          # 34.4
staging_version="v0.${minor}"      # v0.34.4
major_minor="${minor%%.*}"         # 34

work="$(mktemp -d "${TMPDIR:-/tmp}/envtest-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log "building Kubernetes $K8S_VERSION test binaries in $work (first run only; this takes several minutes)"

cd "$work"
gomod_file="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
[[ -f "$gomod_file" ]] || { echo "provision: could not download k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }

# Every staging module that k8s.io/kubernetes replaces with ./staging/... is published on its own
# as v0.<minor>.<patch>; derive the list from its go.mod rather than hard-coding it.
go_directive="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod_file" | head -1)"
{
  echo "module agentidentity.dev/envtest-build"
  echo
  echo "go ${go_directive:-1.24.0}"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "replace ("
  grep -E '^\s*k8s\.io/[^ ]+ => \./staging/' "$gomod_file" | awk -v v="$staging_version" '{print "\t" $1 " => " $1 " " v}'
  echo ")"
} > go.mod

mkdir -p cmd/etcd
cat > cmd/etcd/main.go <<'GO'
// Command etcd is the etcd server, built from the module version that kube-apiserver requires.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO

log "resolving modules"
GOFLAGS=-mod=mod go mod tidy >&2

etcd_version="$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
git_commit="0000000000000000000000000000000000000000"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$major_minor"
  ldflags+=" -X $pkg.gitCommit=$git_commit -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

mkdir -p "$CACHE_ROOT"
out="$(mktemp -d "$CACHE_ROOT/.partial.XXXXXX")"
export CGO_ENABLED=0
log "building kube-apiserver $K8S_VERSION"
go build -trimpath -ldflags "$ldflags" -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
log "building kubectl $K8S_VERSION"
go build -trimpath -ldflags "$ldflags" -o "$out/kubectl" k8s.io/kubernetes/cmd/kubectl
log "building etcd $etcd_version"
go build -trimpath -ldflags "-s -w" -o "$out/etcd" ./cmd/etcd
echo "$etcd_version" > "$out/ETCD_VERSION"

# Publish atomically so a killed build never leaves a half-filled cache entry behind.
rm -rf "$ASSETS"
mv "$out" "$ASSETS"
log "done: $ASSETS"
echo "$ASSETS"
