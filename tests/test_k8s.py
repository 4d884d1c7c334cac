"""deploy/k8s validates against the Kubernetes JSON schemas bundled in kubernetes-validate (no network), and
says what the replicas need: readiness on health, CPU autoscaling, the Secret's URLs, sandbox-friendly security."""
import copy
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[1] / "deploy" / "k8s"


def _docs() -> dict:
    out = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            out[doc["kind"]] = doc
    return out


def _validate(doc: dict) -> None:
    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


@pytest.mark.parametrize("kind", ["Deployment", "Service", "HorizontalPodAutoscaler", "Secret", "Ingress"])
def test_manifest_validates_strictly(kind):
    _validate(_docs()[kind])


def test_validator_rejects_a_typo():
    bad = copy.deepcopy(_docs()["Deployment"])
    bad["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/", "port": 8000}}
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(bad)


def test_kustomization_lists_every_manifest():
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_replicas_are_ready_on_health_scale_on_cpu_and_read_the_secret():
    docs = _docs()
    dep, hpa, secret, svc = docs["Deployment"], docs["HorizontalPodAutoscaler"], docs["Secret"], docs["Service"]
    pod = dep["spec"]["template"]["spec"]
    (app,) = pod["containers"]
    assert app["readinessProbe"]["httpGet"]["path"] == "/api/v1/health"
    assert app["resources"]["requests"]["cpu"]  # HPA utilisation is measured against it
    assert hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"]
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    env = {e["name"]: e for e in app["env"]}
    ref = env["GRADTRACE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
    assert secret["stringData"][ref["key"]].startswith("postgresql://")
    assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]


def test_security_context_keeps_the_sandbox_layers():
    pod = _docs()["Deployment"]["spec"]["template"]["spec"]
    sc = pod["containers"][0]["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
    assert sc["readOnlyRootFilesystem"] is True and not sc.get("privileged")
    # RuntimeDefault would refuse unshare(CLONE_NEWUSER), i.e. the per-run namespaces layer (docs/security.md)
    assert sc["seccompProfile"]["type"] != "RuntimeDefault"
    assert "add" not in sc["capabilities"]


def test_class_streams_pass_the_ingress_unbuffered_and_replicas_share_the_seat_key():
    docs = _docs()
    notes = docs["Ingress"]["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 60  # well above the 15 s heartbeat
    backend = docs["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == docs["Service"]["metadata"]["name"]
    (app,) = docs["Deployment"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in app["env"]}
    ref = env["GRADTRACE_SEAT_SECRET"]["valueFrom"]["secretKeyRef"]
    assert ref["key"] in docs["Secret"]["stringData"] and ref["optional"] is True
    grace = int(env["GRADTRACE_SHUTDOWN_GRACE_S"]["value"])
    assert grace < docs["Deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
