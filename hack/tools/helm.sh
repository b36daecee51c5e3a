#!/usr/bin/env bash
# Print the path of a pinned helm binary. Honours $HELM when set (an existing helm you trust);
# otherwise builds helm from the Go module proxy (release sites are not reachable here) into a
# cache keyed by version, outside the checkout, so only the first run pays (~2 min).
#
# Usage: hack/tools/helm.sh     prints the helm binary path
# Env:   HELM, HELM_VERSION (default below), TOOLS_CACHE (default ~/.cache/agent-identity-operator/tools)
set -euo pipefail

if [[ -n "${HELM:-}" ]]; then
  [[ -x "$HELM" ]] || { echo "helm.sh: HELM=$HELM is not an executable file" >&2; exit 1; }
  echo "$HELM"
  exit 0
fi

HELM_VERSION="${HELM_VERSION:-v3.19.0}"
# The Kubernetes minor whose client libraries that helm release uses (v3.19 -> 1.34): helm's own
# Makefile stamps it into the binary as the default for `helm template` / `helm lint`.
HELM_K8S_MINOR="${HELM_K8S_MINOR:-34}"
cache="${TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agent-identity-operator/tools}/helm-$HELM_VERSION"
bin="$cache/helm"
if [[ ! -x "$bin" ]]; then
  command -v go >/dev/null || { echo "helm.sh: go is required to build helm $HELM_VERSION (or set HELM)" >&2; exit 1; }
  echo "[helm] building helm $HELM_VERSION from the Go module proxy into $cache (first run only)" >&2
  # Build into a partial folder and rename, so an interrupted build never leaves a broken cache.
  mkdir -p "$(dirname "$cache")"
  tmp="$(mktemp -d "${cache}.partial.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  ldflags="-w -s -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for pkg in pkg/lint/rules pkg/chartutil; do
    ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$HELM_K8S_MINOR"
  done
  GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  rm -rf "$cache"; mv "$tmp" "$cache"
  trap - EXIT
fi
echo "$bin"
