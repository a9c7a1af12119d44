"""What the static manifest tests share: the overlays rendered with the pinned kustomize from a
copy of k8s/ with SASL passwords of its own (the repository holds none), and how a rendered pod is
read (its container, variables, ports, mounts, Secrets).

kustomize comes from scripts/kustomize (``go install``, cached outside the repository). The
fixtures (``kustomize``, ``tree``, ``rendered``, ``out``) are this directory's (conftest.py) and
the dedicated-controllers container test's.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml

from kraftlab import pki

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
USERS_DIR = Path("components/secure/users")  # relative to k8s/
NAMESPACE = "kafka-kraft"
CLUSTER_DOMAIN = "cluster.local"
#: The overlays the README documents; a new directory in k8s/overlays must be added here.
OVERLAYS = ("secure", "external-nodeport", "dedicated-controllers", "dedicated-controllers-dynamic")
#: Combinations the README offers (an overlay plus components), rendered from the copy.
COMBINATIONS = {
    "secure+dedicated-controllers": ("../dedicated-controllers", ["secure"]),
    "secure+external-nodeport": ("../../base", ["secure", "external-nodeport"]),
    "network-policy": ("../../base", ["network-policy"]),
    "network-policy+dedicated-controllers": ("../dedicated-controllers", ["network-policy"]),
    "network-policy+external-nodeport": ("../../base", ["external-nodeport", "network-policy"]),
}
RENDERED = (*OVERLAYS, *COMBINATIONS)

Obj = dict[str, Any]

#: Every variable of SPEC.md's tables ("Invocation"; "Listeners, security and external
#: access"; "Kafka versions and quorum modes"; "Operations": Probes, Memory).
SPEC_VARIABLES = frozenset(
    {
        "HOSTNAME", "REPLICAS", "CONTROLLER_REPLICAS", "SERVICE", "NAMESPACE", "CLUSTER_DOMAIN",
        "SHARE_DIR", "DATA_DIR", "CLUSTER_ID", "CLUSTER_ID_TIMEOUT", "BROKER_PORT",
        "CONTROLLER_PORT", "KAFKA_HOME", "KRAFT_TEMPLATE", "KRAFT_CONFIG",
        "TLS_DIR", "SASL_USERS_DIR", "SASL_INTER_BROKER_USER", "TLS_CLIENT_AUTH", "AUTHORIZATION",
        "SUPER_USERS", "EXTERNAL_HOST", "EXTERNAL_PORT", "EXTERNAL_ADVERTISED_PORT",
        "EXTERNAL_PORT_BASE",
        "QUORUM", "CONTROLLER_STATEFULSET", "CONTROLLER_SERVICE", "BROKER_ID_OFFSET",
        "MEMORY_LIMIT", "HEAP_PERCENT", "METRICS", "METRICS_PORT", "PROBE_TIMEOUT", "RACK", "RACK_FILE",
    }
)
SPEC_DEFAULTS = {
    "BROKER_PORT": "9092",
    "CONTROLLER_PORT": "9093",
    "EXTERNAL_PORT": "9094",
    "SASL_INTER_BROKER_USER": "kafka",
    "BROKER_ID_OFFSET": "100",
    "QUORUM": "static",
    "CLUSTER_DOMAIN": CLUSTER_DOMAIN,
    "METRICS": "off",
    "METRICS_PORT": "9404",
}
#: Variables Kafka's own start scripts read (bin/kafka-run-class.sh, kafka-server-start.sh).
KAFKA_SCRIPT_VARIABLES = frozenset(
    {
        "KAFKA_HEAP_OPTS", "KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_GC_LOG_OPTS", "KAFKA_JMX_OPTS",
        "JMX_PORT", "KAFKA_LOG4J_OPTS", "KAFKA_OPTS", "LOG_DIR", "EXTRA_ARGS",
    }
)

# --- rendering -----------------------------------------------------------------------------


def run(argv: Sequence[str], *, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)


def tool(name: str) -> str:
    """A linter installed with the test extra: next to this Python, or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    assert found, f"{name} is not installed: install the project's test extra"
    return found


def assert_kubernetes_valid(docs_by_name: Mapping[str, Sequence[Obj]], tmp_path: Path,
                            version: Optional[str]) -> None:
    """``kubernetes-validate --strict`` over rendered objects (cert-manager's left out: their
    schemas are checked on their own), one file per render, no warning."""
    files = []
    for name, docs in docs_by_name.items():
        builtin = [d for d in docs if not d["apiVersion"].startswith("cert-manager.io/")]
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump_all(builtin))
        files.append(str(path))
    argv = [tool("kubernetes-validate"), "--strict", "--quiet"]
    if version:
        argv += ["--kubernetes-version", version]
    proc = run(argv + files)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARN" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


@pytest.fixture(scope="session")
def kustomize() -> str:
    """The pinned kustomize from scripts/kustomize (installed into the cache on first use)."""
    proc = run([str(REPO / "scripts" / "kustomize")], timeout=900)
    assert proc.returncode == 0, proc.stderr
    path = proc.stdout.strip().splitlines()[-1]
    assert os.access(path, os.X_OK), path
    return path


@dataclasses.dataclass(frozen=True)
class Tree:
    """A copy of k8s/ with SASL passwords of its own, and the combinations' kustomizations."""

    root: Path
    passwords: dict[str, str]

    def overlay(self, name: str) -> Path:
        return self.root / "overlays" / name


def copy_k8s(target: Path) -> Path:
    """k8s/ without any password file a developer made locally (only users/.gitignore)."""

    def ignore(directory: str, names: list[str]) -> list[str]:
        if Path(directory).resolve() == (K8S / USERS_DIR).resolve():
            return [n for n in names if n != ".gitignore"]
        return []

    shutil.copytree(K8S, target, symlinks=True, ignore=ignore)
    return target


@pytest.fixture(scope="session")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    root = copy_k8s(tmp_path_factory.mktemp("overlays") / "k8s")
    passwords = {"kafka": pki.new_password(), "admin": pki.new_password()}
    for user, password in passwords.items():
        (root / USERS_DIR / user).write_text(password)
    for name, (base, components) in COMBINATIONS.items():
        directory = root / "overlays" / name
        directory.mkdir()
        (directory / "kustomization.yaml").write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "kustomize.config.k8s.io/v1beta1",
                    "kind": "Kustomization",
                    "resources": [base],
                    "components": [f"../../components/{c}" for c in components],
                }
            )
        )
    return Tree(root, passwords)


@dataclasses.dataclass(frozen=True)
class Rendered:
    name: str
    text: str
    docs: list[Obj]

    def all(self, kind: str) -> list[Obj]:
        return [d for d in self.docs if d["kind"] == kind]

    def get(self, kind: str, name: str) -> Obj:
        found = [d for d in self.all(kind) if d["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.name}: expected one {kind} {name}, found {len(found)}"
        return found[0]

    def maybe(self, kind: str, name: str) -> Optional[Obj]:
        found = [d for d in self.all(kind) if d["metadata"]["name"] == name]
        return found[0] if found else None


@pytest.fixture(scope="session")
def rendered(kustomize: str, tree: Tree) -> dict[str, Rendered]:
    result = {}
    for name in RENDERED:
        proc = run([kustomize, "build", str(tree.overlay(name))])
        assert proc.returncode == 0, f"kustomize build {name}:\n{proc.stderr}"
        docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
        result[name] = Rendered(name, proc.stdout, docs)
    return result


@pytest.fixture(params=RENDERED)
def out(request: pytest.FixtureRequest, rendered: dict[str, Rendered]) -> Rendered:
    """Each rendered overlay and combination in turn."""
    return rendered[request.param]


# --- what a rendered pod looks like --------------------------------------------------------


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def container(sts: Obj) -> Obj:
    (only,) = sts["spec"]["template"]["spec"]["containers"]
    return only


def env_items(sts: Obj) -> list[Obj]:
    return list(container(sts).get("env", []))


def set_env(sts: Obj) -> dict[str, str]:
    """The variables the pod sets with a literal value (no valueFrom)."""
    return {e["name"]: e["value"] for e in env_items(sts) if "value" in e}


def literal_env(sts: Obj) -> dict[str, str]:
    """set_env with SPEC's defaults for what the pod leaves unset."""
    return {**SPEC_DEFAULTS, **set_env(sts)}


def named_ports(sts: Obj) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for p in container(sts).get("ports", [])}


def template_labels(sts: Obj) -> dict[str, str]:
    return dict(sts["spec"]["template"]["metadata"]["labels"])


def is_controller_set(sts: Obj) -> bool:
    return literal_env(sts).get("CONTROLLER_STATEFULSET") == sts["metadata"]["name"]


def has_broker_role(sts: Obj) -> bool:
    return not is_controller_set(sts)


def secret_keys(secret: Obj) -> dict[str, str]:
    keys = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    keys.update(secret.get("stringData") or {})
    return keys


def mount_of(sts: Obj, path: str) -> Optional[tuple[Obj, Obj]]:
    """(volumeMount, volume) mounted exactly at ``path``."""
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"].get("volumes", [])}
    for mount in container(sts).get("volumeMounts", []):
        if mount["mountPath"].rstrip("/") == path.rstrip("/"):
            return mount, volumes.get(mount["name"], {"name": mount["name"]})
    return None


def fqdn(pod: str, service: str) -> str:
    return f"{pod}.{service}.{NAMESPACE}.svc.{CLUSTER_DOMAIN}"


def covers(patterns: Sequence[str], host: str) -> bool:
    """Whether a certificate with these DNS names is valid for ``host`` (a ``*`` is one label)."""
    for pattern in patterns:
        if pattern.startswith("*."):
            first, _, rest = host.partition(".")
            if first and rest == pattern[2:]:
                return True
        elif pattern == host:
            return True
    return False


def statefulset_of(out: Rendered, selector: Mapping[str, str]) -> list[str]:
    return [s["metadata"]["name"] for s in out.all("StatefulSet") if selects(selector, template_labels(s))]


def certificate_for(out: Rendered, secret_name: str) -> Obj:
    (cert,) = [c for c in out.all("Certificate") if c["spec"]["secretName"] == secret_name]
    return cert
