"""The Helm chart (charts/kraft-entrypoint) and the kustomize manifests (k8s/) are one source of
truth: the chart's default render is ``kubectl kustomize k8s/base`` object for object, and each
overlay (and k8s/kafka-shared-volume.yaml) has a values file in the chart's examples/ that
renders the same objects. Objects are compared parsed (PyYAML), never as text.

No cluster is needed: helm comes from scripts/helm and kustomize from scripts/kustomize (both
``go install`` once, cached outside the repository). The release is named ``kafka`` in namespace
``kafka-kraft``: the chart names objects after the release, so these give the manifests' names.
The manifests' Namespace object is the one thing the chart does not render (``helm install
--create-namespace`` makes it; SPEC "Kubernetes objects" lists the rest).
"""

from __future__ import annotations

import difflib
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml
from manifests.support import assert_kubernetes_valid, run, tool

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "kraft-entrypoint"
EXAMPLES = CHART / "examples"
K8S = REPO / "k8s"
RELEASE = "kafka"
NAMESPACE = "kafka-kraft"
USERS = ("kafka", "admin")  # the secure component's password files (k8s/components/secure/users)

#: What the chart must reproduce: a kustomize directory (or a plain manifest) under k8s/, and
#: the chart's values file for it (None: the chart's defaults).
CASES: dict[str, tuple[str, Optional[str]]] = {
    "base": ("base", None),
    "dedicated-controllers": ("overlays/dedicated-controllers", "values-dedicated-controllers.yaml"),
    "dedicated-controllers-dynamic": (
        "overlays/dedicated-controllers-dynamic",
        "values-dedicated-controllers-dynamic.yaml",
    ),
    "external-nodeport": ("overlays/external-nodeport", "values-external-nodeport.yaml"),
    "secure": ("overlays/secure", "values-secure.yaml"),
    "shared-volume": ("kafka-shared-volume.yaml", "values-shared-volume.yaml"),
}

#: Overlays combined with components, as k8s/README.md ("Combining") offers them, and the chart's
#: values files given together (and --set values for a component no overlay uses):
#: kustomization (resources, components) written into the copy.
COMBINATIONS: dict[str, tuple[str, list[str], list[str], list[str]]] = {
    "secure+dedicated-controllers": (
        "../dedicated-controllers", ["secure"],
        ["values-secure.yaml", "values-dedicated-controllers.yaml"], [],
    ),
    "secure+external-nodeport": (
        "../../base", ["secure", "external-nodeport"],
        ["values-secure.yaml", "values-external-nodeport.yaml"], [],
    ),
    "metrics": (
        "../../base", ["metrics"], [],
        ["--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.grafanaDashboard.enabled=true"],
    ),
    "metrics+dedicated-controllers": (
        "../dedicated-controllers", ["metrics"], ["values-dedicated-controllers.yaml"],
        ["--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.grafanaDashboard.enabled=true"],
    ),
    "network-policy": ("../../base", ["network-policy"], [], ["--set", "networkPolicy.enabled=true"]),
    "network-policy+dedicated-controllers": (
        "../dedicated-controllers", ["network-policy"], ["values-dedicated-controllers.yaml"],
        ["--set", "networkPolicy.enabled=true"],
    ),
    "network-policy+external-nodeport": (
        "../../base", ["external-nodeport", "network-policy"], ["values-external-nodeport.yaml"],
        ["--set", "networkPolicy.enabled=true"],
    ),
    # the rack pair: k8s/components/rack is what examples/values-rack.yaml renders
    "rack": ("../../base", ["rack"], ["values-rack.yaml"], []),
    "rack+dedicated-controllers": (
        "../dedicated-controllers", ["rack"], ["values-dedicated-controllers.yaml", "values-rack.yaml"], [],
    ),
    "rack-pod-label": (
        "../../base", ["rack-pod-label"], ["values-rack.yaml"], ["--set", "rack.source=podLabel"],
    ),
}

Obj = dict[str, Any]
Key = tuple[str, str, str, str]


@pytest.fixture(scope="session")
def helm() -> str:
    """Helm v4.3.2 from scripts/helm (built into the cache on first use)."""
    proc = run([str(REPO / "scripts" / "helm"), "--path"], timeout=1800)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def kustomize() -> str:
    """The pinned kustomize from scripts/kustomize (built into the cache on first use)."""
    proc = run([str(REPO / "scripts" / "kustomize")], timeout=1800)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def k8s_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """k8s/ with SASL password files of its own (the repository holds none), as a user has it."""
    root = tmp_path_factory.mktemp("manifests") / "k8s"
    shutil.copytree(K8S, root, symlinks=True)
    for user in USERS:
        (root / "components" / "secure" / "users" / user).write_text(f"{user}-password-for-tests")
    for name, (base, components, _, _) in COMBINATIONS.items():
        directory = root / "overlays" / name
        directory.mkdir()
        kustomization = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [base],
            "components": [f"../../components/{c}" for c in components],
        }
        (directory / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return root


def password_args(k8s: Path) -> list[str]:
    """The same passwords for the chart, as the values file tells users to give them."""
    users = k8s / "components" / "secure" / "users"
    return [a for user in USERS for a in ("--set-file", f"sasl.users.{user}={users / user}")]


def parse(text: str) -> list[Obj]:
    return [d for d in yaml.safe_load_all(text) if d]


def key(doc: Obj) -> Key:
    meta = doc["metadata"]
    return (doc["apiVersion"], doc["kind"], meta.get("namespace", ""), meta["name"])


def helm_template(
    helm: str, *args: str, release: str = RELEASE, namespace: str = NAMESPACE
) -> list[Obj]:
    proc = run([helm, "template", release, str(CHART), "--namespace", namespace, *args])
    assert proc.returncode == 0, f"helm template {' '.join(args)}:\n{proc.stderr}"
    return parse(proc.stdout)


def values_args(values: Optional[str], k8s: Path) -> list[str]:
    if values is None:
        return []
    return ["-f", str(EXAMPLES / values), *password_args(k8s)]


def manifest_objects(kustomize: str, k8s: Path, source: str) -> list[Obj]:
    path = k8s / source
    if path.is_file():
        return parse(path.read_text())
    proc = run([kustomize, "build", str(path)])
    assert proc.returncode == 0, f"kustomize build {source}:\n{proc.stderr}"
    return parse(proc.stdout)


def without_namespace_object(docs: list[Obj]) -> list[Obj]:
    """The manifests' objects less their Namespace, which must be the release's namespace."""
    namespaces = [d for d in docs if d["kind"] == "Namespace"]
    assert [d["metadata"]["name"] for d in namespaces] == [NAMESPACE]
    return [d for d in docs if d["kind"] != "Namespace"]


def differences(expected: Iterable[Obj], actual: Iterable[Obj]) -> list[str]:
    """What differs between two object sets: missing and extra objects by kind/name, and a
    unified diff of each object present in both that is not equal."""
    left = {key(d): d for d in expected}
    right = {key(d): d for d in actual}
    problems = [f"only in the manifests: {'/'.join(k)}" for k in sorted(left.keys() - right.keys())]
    problems += [f"only in the chart: {'/'.join(k)}" for k in sorted(right.keys() - left.keys())]
    for k in sorted(left.keys() & right.keys()):
        if left[k] != right[k]:
            diff = difflib.unified_diff(
                yaml.safe_dump(left[k], sort_keys=True).splitlines(),
                yaml.safe_dump(right[k], sort_keys=True).splitlines(),
                "manifests", "chart", lineterm="", n=4,
            )
            problems.append(f"{'/'.join(k)} differs:\n" + "\n".join(diff))
    return problems


@pytest.fixture(scope="session")
def renders(helm: str, kustomize: str, k8s_copy: Path) -> dict[str, tuple[list[Obj], list[Obj]]]:
    """(manifests' objects less the Namespace, the chart's objects) for every case."""
    result = {}
    for name, (source, values) in CASES.items():
        manifests = without_namespace_object(manifest_objects(kustomize, k8s_copy, source))
        result[name] = (manifests, helm_template(helm, *values_args(values, k8s_copy)))
    for name, (_, _, files, extra) in COMBINATIONS.items():
        manifests = without_namespace_object(manifest_objects(kustomize, k8s_copy, f"overlays/{name}"))
        args = [a for f in files for a in ("-f", str(EXAMPLES / f))] + password_args(k8s_copy) + extra
        result[name] = (manifests, helm_template(helm, *args))
    return result


# --- one source of truth ---------------------------------------------------------------------


def test_every_overlay_and_values_file_is_compared() -> None:
    """Each overlay directory and each examples/ values file is one of the compared cases."""
    overlays = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
    assert sorted(s.split("/", 1)[1] for s, _ in CASES.values() if s.startswith("overlays/")) == overlays
    files = sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    # a component's values file (rack) is compared through its combinations
    combined = {f for _, _, fs, _ in COMBINATIONS.values() for f in fs}
    assert sorted({v for _, v in CASES.values() if v} | combined) == files


@pytest.mark.parametrize("case", [*CASES, *COMBINATIONS])
def test_chart_renders_the_same_objects_as_the_manifests(
    case: str, renders: dict[str, tuple[list[Obj], list[Obj]]]
) -> None:
    """The chart with the case's values (combinations: two values files) renders exactly the
    manifests' objects (less the Namespace): the same kinds and names, each object equal field
    for field."""
    manifests, chart = renders[case]
    assert len(manifests) >= 5, [key(d) for d in manifests]
    problems = differences(manifests, chart)
    assert not problems, f"{case}: chart and manifests differ:\n" + "\n\n".join(problems)


def test_the_comparison_sees_a_changed_field(
    helm: str, renders: dict[str, tuple[list[Obj], list[Obj]]]
) -> None:
    """The comparison can fail: one changed value is reported by object and field."""
    manifests, _ = renders["base"]
    changed = helm_template(helm, "--set", "persistence.size=11Gi")
    (problem,) = differences(manifests, changed)
    assert problem.startswith("apps/v1/StatefulSet/kafka-kraft/kafka differs"), problem
    assert "-          storage: 10Gi" in problem, problem
    assert "+          storage: 11Gi" in problem, problem


# --- what the values do, beyond the manifests ------------------------------------------------


def statefulset(docs: list[Obj], name: str) -> Obj:
    (found,) = [d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == name]
    return found


def env_of(sts: Obj) -> dict[str, Any]:
    (container,) = sts["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


@pytest.mark.parametrize(
    "values", [None, "values-external-nodeport.yaml", "values-dedicated-controllers.yaml"]
)
def test_more_replicas_change_no_pod_template(
    helm: str, k8s_copy: Path, values: Optional[str]
) -> None:
    """`helm upgrade --set replicas=5` scales without restarting a pod: only spec.replicas of
    StatefulSet kafka changes, plus, with NodePorts, the Services of the two new pods."""
    before = {key(d): d for d in helm_template(helm, *values_args(values, k8s_copy))}
    after = {
        key(d): d
        for d in helm_template(helm, *values_args(values, k8s_copy), "--set", "replicas=5")
    }
    added = sorted(k[3] for k in after.keys() - before.keys())
    external = values == "values-external-nodeport.yaml"
    assert added == (["kafka-external-3", "kafka-external-4"] if external else [])
    assert before.keys() <= after.keys()
    changed = sorted(k[3] for k in before if before[k] != after[k])
    assert changed == ["kafka"]
    sts_key = ("apps/v1", "StatefulSet", NAMESPACE, "kafka")
    assert after[sts_key]["spec"].pop("replicas") == 5
    assert before[sts_key]["spec"].pop("replicas") == 3
    assert after[sts_key] == before[sts_key]
    if external:
        service = after[("v1", "Service", NAMESPACE, "kafka-external-4")]
        assert service["spec"]["ports"][0]["nodePort"] == 30096
        assert service["spec"]["selector"]["statefulset.kubernetes.io/pod-name"] == "kafka-4"


def test_more_controllers_change_only_the_controller_replicas(helm: str, k8s_copy: Path) -> None:
    """Dynamic quorum: `--set controllers.replicas=5` changes only spec.replicas of
    kafka-controller; CONTROLLER_REPLICAS (the initial voters) and every pod template stay."""
    args = values_args("values-dedicated-controllers-dynamic.yaml", k8s_copy)
    before = {key(d): d for d in helm_template(helm, *args)}
    after = {key(d): d for d in helm_template(helm, *args, "--set", "controllers.replicas=5")}
    assert after.keys() == before.keys()
    changed = sorted(k[3] for k in before if before[k] != after[k])
    assert changed == ["kafka-controller"]
    sts_key = ("apps/v1", "StatefulSet", NAMESPACE, "kafka-controller")
    assert (before[sts_key]["spec"].pop("replicas"), after[sts_key]["spec"].pop("replicas")) == (3, 5)
    assert after[sts_key] == before[sts_key]
    assert env_of(after[sts_key])["CONTROLLER_REPLICAS"] == "3"
    assert env_of(after[sts_key])["QUORUM"] == "dynamic"


def test_a_new_password_renames_the_sasl_secret(helm: str, k8s_copy: Path, tmp_path: Path) -> None:
    """The users Secret's name carries a hash of the passwords (kustomize's), so a password
    change reaches the pod template and rolls the pods, as with the secure overlay."""
    first = helm_template(helm, *values_args("values-secure.yaml", k8s_copy))
    other = tmp_path / "other"
    other.write_text("a-new-password")
    second = helm_template(
        helm, *values_args("values-secure.yaml", k8s_copy), "--set-file", f"sasl.users.admin={other}"
    )

    def secret_volume(docs: list[Obj]) -> str:
        volumes = statefulset(docs, "kafka")["spec"]["template"]["spec"]["volumes"]
        (name,) = [v["secret"]["secretName"] for v in volumes if v["name"] == "sasl-users"]
        assert name in {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
        return str(name)

    assert re.fullmatch(r"kafka-sasl-users-[0-9a-z]{10}", secret_volume(first))
    assert secret_volume(first) != secret_volume(second)


#: Values beyond the manifests, each rendered, linted and validated.
FEATURES: dict[str, list[str]] = {
    "host-pattern": [
        "--set", "external.enabled=true", "--set", "external.mode=host",
        "--set", "external.host=kafka-{ordinal}.kafka.example.com",
        "--set", "external.advertisedPort=443",
        "--set", "external.service.annotations.external-dns\\.alpha\\.kubernetes\\.io/hostname"
        "=kafka-{ordinal}.kafka.example.com",
    ],
    "own-issuer-and-existing-secrets": [
        "--set", "tls.enabled=true", "--set", "tls.issuerRef.name=corp-ca",
        "--set", "tls.issuerRef.kind=ClusterIssuer", "--set", "sasl.enabled=true",
        "--set", "sasl.existingSecret=my-users", "--set", "sasl.mechanism=SCRAM-SHA-512",
        "--set", "kafkaVersion=4.4.0", "--set", "existingClusterIdSecret=my-cluster-id",
    ],
    "existing-tls-secret-dedicated": [
        "--set", "tls.enabled=true", "--set", "tls.existingSecret=my-tls",
        "--set", "controllers.dedicated=true", "--set", "authorization.enabled=true",
        "--set", "persistence.storageClass=fast", "--set", "controllers.persistence.storageClass=fast",
    ],
    "exec-probes-extra-env": [
        "--set-json", 'broker.readinessProbe={"exec":{"command":["kraft-entrypoint","probe","ready"]},'
        '"periodSeconds":10}',
        "--set-json", 'broker.extraEnv=[{"name":"KAFKA_CFG_LOG_RETENTION_HOURS","value":"72"}]',
        "--set", "clusterDomain=example.internal", "--set", "broker.pdb.enabled=false",
    ],
    "metrics-off-dedicated": ["--set", "metrics.enabled=false", "--set", "controllers.dedicated=true"],
    "metrics-port-dedicated": ["--set", "metrics.port=9500", "--set", "controllers.dedicated=true"],
    "no-spread-dedicated": [
        "--set-json", "topologySpread.topologyKeys=[]", "--set", "controllers.dedicated=true",
    ],
    "network-policy-options": [
        "--set", "networkPolicy.enabled=true", "--set", "controllers.dedicated=true",
        "--set-json", 'networkPolicy.clientLabels={"kafka-client":null,"app.example.com/kafka":"producer"}',
        "--set-json", 'networkPolicy.clientNamespaces=["apps","jobs"]',
        "--set-json", 'networkPolicy.external.from=[{"ipBlock":{"cidr":"203.0.113.0/24"}}]',
        "--set", "networkPolicy.metrics.namespace=observability",
    ],
    "strict-zone-spread": [
        "--set-json", 'topologySpread.topologyKeys=["topology.kubernetes.io/zone"]',
        "--set", "topologySpread.whenUnsatisfiable=DoNotSchedule", "--set", "topologySpread.maxSkew=2",
    ],
}


def test_values_beyond_the_manifests_do_what_they_say(helm: str) -> None:
    """The values that no overlay uses reach the objects: host pattern, own issuer, existing
    Secrets, storage class, exec probes, extra env, cluster domain, no budget."""
    host = helm_template(helm, *FEATURES["host-pattern"])
    env = env_of(statefulset(host, "kafka"))
    assert env["EXTERNAL_HOST"] == "kafka-{ordinal}.kafka.example.com"
    assert env["EXTERNAL_ADVERTISED_PORT"] == "443"
    assert "EXTERNAL_PORT_BASE" not in env
    assert "HOST_IP" not in env
    service = next(d for d in host if d["metadata"]["name"] == "kafka-external-2")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"] == {
        "external-dns.alpha.kubernetes.io/hostname": "kafka-2.kafka.example.com"
    }
    assert service["spec"]["ports"][0]["port"] == 443

    own = helm_template(helm, *FEATURES["own-issuer-and-existing-secrets"])
    cert_manager = [d for d in own if d["apiVersion"].startswith("cert-manager.io/")]
    assert [d["kind"] + "/" + d["metadata"]["name"] for d in cert_manager] == ["Certificate/kafka-tls"]
    (cert,) = [d for d in own if d["kind"] == "Certificate"]
    issuer = {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}
    assert cert["spec"]["issuerRef"] == issuer
    assert not [d for d in own if d["kind"] == "Secret"]  # both Secrets exist already
    env = env_of(statefulset(own, "kafka"))
    assert env["SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert env["CLUSTER_ID"]["secretKeyRef"]["name"] == "my-cluster-id"

    existing = helm_template(helm, *FEATURES["existing-tls-secret-dedicated"])
    assert not [d for d in existing if "cert-manager" in d["apiVersion"]]
    for name in ("kafka", "kafka-controller"):
        sts = statefulset(existing, name)
        assert env_of(sts)["TLS_DIR"] == "/etc/kafka/tls"
        volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
        assert volumes["tls"]["secret"]["secretName"] == "my-tls"
        assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "fast"

    probes = helm_template(helm, *FEATURES["exec-probes-extra-env"])
    sts = statefulset(probes, "kafka")
    (container,) = sts["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["exec"]["command"] == ["kraft-entrypoint", "probe", "ready"]
    assert container["env"][-1] == {"name": "KAFKA_CFG_LOG_RETENTION_HOURS", "value": "72"}
    assert env_of(sts)["CLUSTER_DOMAIN"] == "example.internal"
    assert not [d for d in probes if d["kind"] == "PodDisruptionBudget"]


def test_metrics_values_reach_every_pod_or_none(helm: str) -> None:
    """metrics.enabled=false leaves no METRICS, no port and no annotation on any StatefulSet and
    no metrics port on the headless Service; metrics.port moves the container port, the Service
    port, the annotation and sets METRICS_PORT on brokers and controllers alike."""
    off = helm_template(helm, *FEATURES["metrics-off-dedicated"])
    moved = helm_template(helm, *FEATURES["metrics-port-dedicated"])
    for name in ("kafka", "kafka-controller"):
        sts = statefulset(off, name)
        (container,) = sts["spec"]["template"]["spec"]["containers"]
        assert not {"METRICS", "METRICS_PORT"} & env_of(sts).keys()
        assert "metrics" not in [p["name"] for p in container["ports"]]
        assert "annotations" not in sts["spec"]["template"]["metadata"]
        sts = statefulset(moved, name)
        (container,) = sts["spec"]["template"]["spec"]["containers"]
        assert (env_of(sts)["METRICS"], env_of(sts)["METRICS_PORT"]) == ("prometheus", "9500")
        assert {"name": "metrics", "containerPort": 9500, "protocol": "TCP"} in container["ports"]
        assert sts["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == "9500"
    (headless_off,) = [d for d in off if d["metadata"]["name"] == "kafka-svc"]
    assert [p["name"] for p in headless_off["spec"]["ports"]] == ["broker", "controller"]
    (headless,) = [d for d in moved if d["metadata"]["name"] == "kafka-svc"]
    (port,) = [p for p in headless["spec"]["ports"] if p["name"] == "metrics"]
    assert (port["port"], port["targetPort"]) == (9500, "metrics")


def test_topology_spread_values_override_or_remove_the_constraints(helm: str) -> None:
    """topologySpread.topologyKeys=[] leaves no constraint on either StatefulSet; one key with
    DoNotSchedule and maxSkew 2 gives exactly that constraint, over the StatefulSet's own pods."""
    for name in ("kafka", "kafka-controller"):
        sts = statefulset(helm_template(helm, *FEATURES["no-spread-dedicated"]), name)
        assert "topologySpreadConstraints" not in sts["spec"]["template"]["spec"]
    sts = statefulset(helm_template(helm, *FEATURES["strict-zone-spread"]), "kafka")
    assert sts["spec"]["template"]["spec"]["topologySpreadConstraints"] == [{
        "maxSkew": 2, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": sts["spec"]["selector"]["matchLabels"]},
    }]


def test_network_policy_values_reach_the_policy(helm: str) -> None:
    """networkPolicy: the client labels select clients in the release's namespace and in each of
    clientNamespaces, external.from restricts the external port, metrics.namespace names the
    scrapers' namespace; off by default."""
    assert not [d for d in helm_template(helm) if d["kind"] == "NetworkPolicy"]
    docs = helm_template(helm, *FEATURES["network-policy-options"])
    (policy,) = [d for d in docs if d["kind"] == "NetworkPolicy"]
    rules = {rule["ports"][0]["port"]: rule.get("from") for rule in policy["spec"]["ingress"]}
    client = {"matchLabels": {"app.example.com/kafka": "producer"}}
    own = {"matchLabels": {"app.kubernetes.io/name": "kafka", "app.kubernetes.io/instance": "kafka"}}
    assert rules["broker"] == [
        {"podSelector": own},
        {"podSelector": client},
        *({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}, "podSelector": client}
          for ns in ("apps", "jobs")),
    ]
    assert rules["controller"] == [{"podSelector": own}]
    assert rules["external"] == [{"ipBlock": {"cidr": "203.0.113.0/24"}}]
    scrapers = {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}
    assert rules["metrics"] == [{"namespaceSelector": scrapers}]
    off = helm_template(helm, "--set", "networkPolicy.enabled=true", "--set", "metrics.enabled=false")
    (policy,) = [d for d in off if d["kind"] == "NetworkPolicy"]
    assert [r["ports"][0]["port"] for r in policy["spec"]["ingress"]] == ["controller", "broker", "external"]


def test_names_follow_the_release_and_namespace(helm: str, k8s_copy: Path) -> None:
    """Installed as release `other` in namespace `ns2`, no object names or refers to the
    manifests' `kafka-*` objects or namespace: every cross-reference follows the release."""
    args = ["-f", str(EXAMPLES / "values-secure.yaml"), *password_args(k8s_copy),
            "--set", "controllers.dedicated=true", "--set", "external.enabled=true"]
    docs = helm_template(helm, *args, release="other", namespace="ns2")
    for doc in docs:
        assert doc["metadata"]["name"].startswith("other"), key(doc)
        assert doc["metadata"].get("namespace") == "ns2", key(doc)
        assert doc["metadata"]["labels"]["app.kubernetes.io/instance"] == "other", key(doc)
    text = yaml.safe_dump_all(docs)
    text = text.replace("app.kubernetes.io/part-of: kafka-kraft", "").replace("localhost/kafka-kraft:", "")
    names = r"\bkafka-(?:kraft|svc|client|controller|cluster-id|tls|ca|sasl|external|\d)\S*"
    leftovers = re.findall(names, text)
    assert not leftovers, leftovers
    assert "'*.other-svc.ns2.svc.cluster.local'" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "quorum.voters=4"], "quorum.voters must not exceed replicas"),
        (["--set", "sasl.enabled=true"], 'sasl.users needs the inter-broker user "kafka"'),
        (["--set", "authorization.enabled=true"], "authorization needs sasl or tls"),
        (["--set", "sasl.enabled=true", "--set", "sasl.existingSecret=u",
          "--set", "sasl.mechanism=SCRAM-SHA-512"], "sasl.mechanism SCRAM-SHA-512 needs Kafka >= 3.5"),
        (["--set", "controllers.dedicated=true", "--set", "persistence.shared.enabled=true"],
         "persistence.shared works with the combined layout only"),
        (["--set", "external.enabled=true", "--set", "external.mode=host"], "external.mode host needs"),
        (["--set", "controllers.dedicated=true", "--set", "controllers.replicas=2"],
         "quorum.voters must not exceed controllers.replicas"),
        # values.schema.json: a typo or a value out of its set never renders silently
        (["--set", "quorum.mode=Dynamic"], "at '/quorum/mode': value must be one of 'static', 'dynamic'"),
        (["--set", "replica=5", "--set", "broker.replicas=2"],
         "at '': additional properties 'replica' not allowed"),
        (["--set", "broker.podAntiAffinity=required"], "at '/broker/podAntiAffinity': value must be one of"),
        (["--set", "fullnameOverride=" + "k" * 41], "at '/fullnameOverride': maxLength: got 41, want 40"),
        (["--set", "metrics.enabled=false", "--set", "metrics.serviceMonitor.enabled=true"],
         "metrics.serviceMonitor and metrics.grafanaDashboard need metrics.enabled"),
        (["--set", "external.enabled=true", "--set", "metrics.port=9094"],
         "metrics.port 9094 is a listener's port"),
        (["--set", "networkPolicy.enabled=true",
          "--set-json", 'networkPolicy.clientLabels={"kafka-client":null}'],
         "at '/networkPolicy/clientLabels': minProperties: got 0, want 1"),
    ],
    ids=["voters", "sasl-no-users", "acl-anonymous", "scram-on-kafka-3.3", "shared-dedicated", "host-no-host",
         "voters-controllers", "schema-quorum-mode", "schema-typo", "schema-affinity", "schema-long-name",
         "monitor-without-metrics", "metrics-on-a-listener-port", "schema-empty-client-selector"],
)
def test_values_that_cannot_work_are_refused(helm: str, args: list[str], message: str) -> None:
    """Values that would make a cluster that cannot start fail the render, saying why."""
    proc = run([helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, *args])
    assert proc.returncode != 0, proc.stdout[:400]
    assert message in proc.stderr, proc.stderr


# --- helm lint, schemas ----------------------------------------------------------------------


def lint_cases(k8s: Path) -> dict[str, list[str]]:
    cases = {name: values_args(values, k8s) for name, (_, values) in CASES.items()}
    cases.update(FEATURES)
    return cases


def test_helm_lint_strict_is_clean(helm: str, k8s_copy: Path) -> None:
    """`helm lint --strict` passes with the defaults, every examples/ file and the features."""
    for name, args in lint_cases(k8s_copy).items():
        proc = run([helm, "lint", "--strict", str(CHART), "--namespace", NAMESPACE, *args])
        assert proc.returncode == 0, f"{name}:\n{proc.stdout}{proc.stderr}"
        assert "0 chart(s) failed" in proc.stdout, f"{name}:\n{proc.stdout}"
        assert "[WARNING]" not in proc.stdout, f"{name}:\n{proc.stdout}"
        assert "[ERROR]" not in proc.stdout, f"{name}:\n{proc.stdout}"


@pytest.mark.parametrize("version", ["1.27", None], ids=["k8s-1.27", "k8s-latest"])
def test_renders_pass_kubernetes_validate_strict(
    helm: str, k8s_copy: Path, version: Optional[str], tmp_path: Path
) -> None:
    """Every built-in object of every render is valid (strict: no unknown field), none skipped;
    cert-manager's kinds are compared with the secure overlay above (their schemas: the
    manifests' static tests)."""
    rendered = {name: helm_template(helm, *args) for name, args in lint_cases(k8s_copy).items()}
    assert_kubernetes_valid(rendered, tmp_path, version)


def test_helm_script_gives_the_pinned_version(helm: str) -> None:
    """scripts/helm runs Helm v4.3.2 from the cache (no build on a second run) with the
    arguments given, and --path names the cached binary."""
    proc = run([str(REPO / "scripts" / "helm"), "version", "--template", "{{.Version}}"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "v4.3.2"
    assert "installing" not in proc.stderr
    assert Path(helm).name == "helm"
    assert Path(helm).parent.name == "helm-4.3.2"


def test_values_files_pass_yamllint() -> None:
    """Chart.yaml, values.yaml and the examples pass yamllint --strict with the manifests' rules."""
    sources = [CHART / "Chart.yaml", CHART / "values.yaml", *sorted(EXAMPLES.glob("*.yaml"))]
    proc = run([tool("yamllint"), "--strict", "-c", str(K8S / ".yamllint.yaml"), *map(str, sources)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rendered_output_passes_yamllint(helm: str, k8s_copy: Path, tmp_path: Path) -> None:
    """Every render passes yamllint (toYaml's unindented sequences allowed), so duplicate keys, stray
    whitespace from the templates and the like cannot hide in it."""
    config = tmp_path / "yamllint.yaml"
    config.write_text(
        "extends: default\nrules:\n  document-start: disable\n  line-length: {max: 120}\n"
        "  comments: {min-spaces-from-content: 1}\n"
        "  indentation: {spaces: 2, indent-sequences: whatever}\n"
    )
    files = []
    for name, args in lint_cases(k8s_copy).items():
        proc = run([helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, *args])
        assert proc.returncode == 0, proc.stderr
        path = tmp_path / f"{name}.yaml"
        path.write_text(proc.stdout)
        files.append(str(path))
    proc = run([tool("yamllint"), "--strict", "-c", str(config), *files])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def notes(helm: str, *args: str) -> str:
    """NOTES.txt as `helm install` prints it (a client-side dry run: no cluster)."""
    proc = run([helm, "install", RELEASE, str(CHART), "--namespace", NAMESPACE, "--dry-run=client", *args])
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split("\nNOTES:\n", 1)[1]


def test_notes_warn_while_the_cluster_id_is_the_example(helm: str) -> None:
    """The install notes warn while the cluster id is the manifests' example (and say how to
    make one), and not once an id of one's own is set; they name the client address."""
    default = notes(helm)
    assert "EXAMPLE cluster id" in default
    assert "--new-cluster-id" in default
    assert "kafka-client.kafka-kraft.svc.cluster.local:9092" in default
    own = notes(helm, "--set", "clusterId=Pjk0Rc0jS1yY7xOkQyGmVw", "--set", "external.enabled=true")
    assert "EXAMPLE" not in own
    assert "<its node's IP>:30092+N" in own
