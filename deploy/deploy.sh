#!/usr/bin/env bash
# Release Vigía to Kubernetes: build the image, tag it with the git revision, push it, apply
# the overlay with the image pinned by digest, wait for every rollout, and roll back if one
# fails. A canary path tries a release on a share of the API's traffic first.
#
#   deploy/deploy.sh [--overlay prod|dev]                 release everything
#   deploy/deploy.sh --canary 10                           new API beside the old, 10 % of requests
#   deploy/deploy.sh --promote                             release everything, then drop the canary
#   deploy/deploy.sh --abort                               drop the canary; the old release serves all
#
# Environment: VIGIA_REGISTRY (default ghcr.io/vigia-pe), KUBE_CONTEXT (default: kubectl's current),
# ROLLOUT_TIMEOUT (default 10m). Needs docker and kubectl; see docs/operations.md.
set -euo pipefail

cd "$(dirname "$0")/.."
REGISTRY="${VIGIA_REGISTRY:-ghcr.io/vigia-pe}"
TIMEOUT="${ROLLOUT_TIMEOUT:-10m}"
OVERLAY=prod
MODE=release
WEIGHT=10
SERVICES=(bridge stream inference notifier api)

while [ $# -gt 0 ]; do
  case "$1" in
    --overlay) OVERLAY="$2"; shift 2 ;;
    --canary) MODE=canary; WEIGHT="$2"; shift 2 ;;
    --promote) MODE=promote; shift ;;
    --abort) MODE=abort; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "deploy.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$WEIGHT" in ''|*[!0-9]*) echo "deploy.sh: --canary takes a percentage" >&2; exit 2 ;; esac
if [ "$WEIGHT" -lt 1 ] || [ "$WEIGHT" -gt 50 ]; then echo "deploy.sh: a canary takes 1 to 50 %" >&2; exit 2; fi
[ -d "deploy/kubernetes/overlays/$OVERLAY" ] || { echo "deploy.sh: no overlay $OVERLAY" >&2; exit 2; }

NAMESPACE=vigia
[ "$OVERLAY" = dev ] && NAMESPACE=vigia-dev
kube() { kubectl ${KUBE_CONTEXT:+--context "$KUBE_CONTEXT"} --namespace "$NAMESPACE" "$@"; }
log() { printf '[deploy] %s\n' "$*"; }

drop_canary() {
  log "removing the canary"
  kube delete ingress/api-canary service/api-canary deployment/api-canary --ignore-not-found
}

if [ "$MODE" = abort ]; then drop_canary; exit 0; fi

if [ -n "$(git status --porcelain)" ]; then
  echo "deploy.sh: the working tree has changes; a release is a commit" >&2
  exit 1
fi
REVISION="$(git rev-parse --short=12 HEAD)"
IMAGE="$REGISTRY/vigia:$REVISION"

log "building $IMAGE"
docker build --file deploy/Dockerfile --tag "$IMAGE" .
docker push "$IMAGE"
DIGEST="$(docker inspect --format '{{index .RepoDigests 0}}' "$IMAGE")"
log "pushed $DIGEST"

# The release's kustomization: the overlay (or the canary) with the image pinned by digest.
RELEASE="deploy/kubernetes/.release"
rm -rf "$RELEASE" && mkdir -p "$RELEASE"
trap 'rm -rf "$RELEASE"' EXIT
SOURCE="../overlays/$OVERLAY"
[ "$MODE" = canary ] && SOURCE="../canary"
cat > "$RELEASE/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $NAMESPACE
resources:
  - $SOURCE
images:
  - name: ghcr.io/vigia-pe/vigia
    newName: ${DIGEST%@*}
    digest: ${DIGEST#*@}
YAML

if [ "$MODE" = canary ]; then
  log "canary: the new API takes $WEIGHT % of requests"
  kubectl kustomize "$RELEASE" \
    | sed "s/nginx.ingress.kubernetes.io\/canary-weight: \"[0-9]*\"/nginx.ingress.kubernetes.io\/canary-weight: \"$WEIGHT\"/" \
    | kube apply -f -
  if ! kube rollout status deployment/api-canary --timeout "$TIMEOUT"; then
    log "the canary did not become ready"
    drop_canary
    exit 1
  fi
  log "watch the dashboard's API panels; then deploy.sh --promote or deploy.sh --abort"
  exit 0
fi

# The Job's pod template cannot change in place: the previous release's Job goes first.
kube delete job/migrate --ignore-not-found
kubectl kustomize "$RELEASE" | kube apply -f -
log "migrating the schema"
kube wait --for=condition=complete job/migrate --timeout "$TIMEOUT"

failed=""
for service in "${SERVICES[@]}"; do
  log "waiting for $service"
  kube rollout status "deployment/$service" --timeout "$TIMEOUT" || { failed="$service"; break; }
done
if [ -n "$failed" ]; then
  log "$failed did not roll out: rolling every service back to the previous release"
  for service in "${SERVICES[@]}"; do
    kube rollout undo "deployment/$service" || true
  done
  for service in "${SERVICES[@]}"; do
    kube rollout status "deployment/$service" --timeout "$TIMEOUT" || true
  done
  exit 1
fi
[ "$MODE" = promote ] && drop_canary
log "released $REVISION to $NAMESPACE"
