#!/usr/bin/env bash
# The Kubernetes manifests (deploy/k8s): every overlay rendered with
# `kubectl kustomize` and every object validated offline against Kubernetes
# $K8S_VERSION (PyPI kubernetes-validate, strict: unknown fields fail; the
# Prometheus Operator and KEDA kinds have no schema there and are reported as
# such); the PrometheusRule is the one generated from the rules promtool
# tests; the base's hookgate.toml and example tenant load (`config check`).
# `.ci/run` calls it; run it alone the same way.
set -euo pipefail
cd "$(dirname "$0")/../.."

K8S_VERSION=${K8S_VERSION:-1.31.0}
if ! command -v kubectl >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q kubectl >/dev/null
fi
VENV=${K8S_VENV:-target/k8s-venv}
if [ ! -x "$VENV/bin/kubernetes-validate" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "kubernetes-validate>=1.31"
fi

out=$(mktemp -d)
cfg=$(mktemp -d)
trap 'rm -rf "$out" "$cfg"' EXIT
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  kubectl kustomize "$overlay" >"$out/$name.yaml"
  "$VENV/bin/kubernetes-validate" -k "$K8S_VERSION" --strict --quiet "$out/$name.yaml"
  echo "$name: $(grep -c '^kind:' "$out/$name.yaml") objects valid for Kubernetes $K8S_VERSION"
done

# The spool component's StatefulSet runs the production ingress pod: their
# containers must not drift apart.
python3 - "$out/production.yaml" "$out/production-spool.yaml" <<'PY'
import sys, yaml
def ingress(path, kind):
    for doc in yaml.safe_load_all(open(path)):
        if doc and doc["kind"] == kind and doc["metadata"]["name"] == "hookgate-ingress":
            return doc["spec"]["template"]["spec"]["containers"]
    sys.exit(f"{path}: no {kind} hookgate-ingress")
if ingress(sys.argv[1], "Deployment") != ingress(sys.argv[2], "StatefulSet"):
    sys.exit("components/spool/statefulset-ingress.yaml: its containers differ from overlays/production/deployment-ingress.yaml's")
print("production-spool: the StatefulSet runs the production ingress containers")
PY

diff -u deploy/k8s/overlays/production/prometheusrule.yaml <(python3 scripts/gen-prometheusrule.py) ||
  { echo "prometheusrule.yaml is stale: python3 scripts/gen-prometheusrule.py > deploy/k8s/overlays/production/prometheusrule.yaml" >&2; exit 1; }

cargo build -q -p hookgate-cli
cp deploy/k8s/base/hookgate.toml "$cfg/"
mkdir "$cfg/tenants.d"
cp deploy/k8s/base/tenants/*.toml "$cfg/tenants.d/"
ACME_WEBHOOKS_SECRET=whsec_ZXhhbXBsZS13ZWJob29rcy1zZWNyZXQ= ACME_SIGNING_SECRET=whsec_ZXhhbXBsZS1zaWduaW5nLXNlY3JldA== \
  HOOKGATE_ADMIN_TOKEN=example target/debug/hookgate --config "$cfg" config check >/dev/null
echo "deploy/k8s/base: hookgate.toml and the example tenant load"
