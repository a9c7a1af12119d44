"""Static proof for the kustomize overlays (k8s/overlays, k8s/components): every overlay renders
with the pinned kustomize, passes the schemas and yamllint, and its pods, Secrets, Services and
budgets agree with each other and with the entrypoint's contract.

No container runs here (these tests are in the normal test command, like test_container_static).
kustomize comes from scripts/kustomize (``go install``, cached outside the repository). The
rendering works on a copy of k8s/ with SASL passwords of its own (the repository holds none).

How each kind of object is checked:

* built-in kinds: ``kubernetes-validate --strict`` (Kubernetes 1.27 and its latest), which must
  print no warning (it only warns, and skips, on kinds it has no schema for);
* cert-manager's ``Certificate`` and ``Issuer`` (CRDs the validator does not know): JSON schemas
  written here for ``cert-manager.io/v1`` (CERT_MANAGER_SCHEMAS): every field name of the
  Certificate/Issuer spec that cert-manager v1 accepts, closed to any other (so a typo fails),
  with the enums and types of the fields these overlays use;
* consistency: variables against SPEC.md's tables (SPEC_VARIABLES, written out here as
  tests/conftest.py does, because SPEC.md is not in the repository), Secret keys, ports,
  selectors, budgets, certificate names, and the entrypoint's ``--dry-run`` with each emulated
  pod's environment.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

import jsonschema  # installed with kubernetes-validate (the test extra)
import pki
import pytest
import yaml

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
}
RENDERED = (*OVERLAYS, *COMBINATIONS)

Obj = dict[str, Any]

#: Every variable of SPEC.md's tables ("Invocation"; "Listeners, security and external
#: access"; "Kafka versions and quorum modes").
SPEC_VARIABLES = frozenset(
    {
        "HOSTNAME", "REPLICAS", "CONTROLLER_REPLICAS", "SERVICE", "NAMESPACE", "CLUSTER_DOMAIN",
        "SHARE_DIR", "DATA_DIR", "CLUSTER_ID", "CLUSTER_ID_TIMEOUT", "BROKER_PORT",
        "CONTROLLER_PORT", "KAFKA_HOME", "KRAFT_TEMPLATE", "KRAFT_CONFIG",
        "TLS_DIR", "SASL_USERS_DIR", "SASL_INTER_BROKER_USER", "TLS_CLIENT_AUTH", "AUTHORIZATION",
        "SUPER_USERS", "EXTERNAL_HOST", "EXTERNAL_PORT", "EXTERNAL_ADVERTISED_PORT",
        "EXTERNAL_PORT_BASE",
        "QUORUM", "CONTROLLER_STATEFULSET", "CONTROLLER_SERVICE", "BROKER_ID_OFFSET",
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
}
#: Variables Kafka's own start scripts read (bin/kafka-run-class.sh, kafka-server-start.sh).
KAFKA_SCRIPT_VARIABLES = frozenset(
    {
        "KAFKA_HEAP_OPTS", "KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_GC_LOG_OPTS", "KAFKA_JMX_OPTS",
        "JMX_PORT", "KAFKA_LOG4J_OPTS", "KAFKA_OPTS", "LOG_DIR", "EXTRA_ARGS",
    }
)
_VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


# --- rendering -----------------------------------------------------------------------------


def run(argv: Sequence[str], *, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)


def tool(name: str) -> str:
    """A linter installed with the test extra: next to this Python, or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    assert found, f"{name} is not installed: install the project's test extra"
    return found


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


# --- linters and schemas -------------------------------------------------------------------


def test_overlay_directories_are_the_documented_ones() -> None:
    """Every overlay directory is rendered and checked here (and in the README)."""
    found = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
    assert found == sorted(OVERLAYS)
    readme = (K8S / "README.md").read_text()
    for name in OVERLAYS:
        assert f"kubectl apply -k k8s/overlays/{name}" in readme, name


def test_kustomize_script_gives_the_pinned_version(kustomize: str) -> None:
    """scripts/kustomize prints the path of kustomize v5.7.1; a second run is a cache hit."""
    assert run([kustomize, "version"]).stdout.strip() == "v5.7.1"
    again = run([str(REPO / "scripts" / "kustomize")])
    assert again.returncode == 0
    assert again.stdout.strip().splitlines()[-1] == kustomize
    assert "cached" in again.stderr


def test_base_is_kafka_yaml_unchanged(kustomize: str) -> None:
    """k8s/kafka.yaml is the base itself (a link, so the two cannot drift), and the base
    renders exactly its objects."""
    link = K8S / "kafka.yaml"
    assert link.is_symlink()
    assert os.readlink(link) == "base/kafka.yaml"
    proc = run([kustomize, "build", str(K8S / "base")])
    assert proc.returncode == 0, proc.stderr
    as_set = lambda docs: sorted(yaml.safe_dump(d, sort_keys=True) for d in docs if d)  # noqa: E731
    assert as_set(yaml.safe_load_all(proc.stdout)) == as_set(yaml.safe_load_all(link.read_text()))


def test_example_cluster_id_is_marked_for_replacement() -> None:
    """The shipped cluster id says it must be replaced, and how a new one is made (the image's
    entrypoint, --new-cluster-id), in the manifest and in k8s/README.md."""
    manifest = (K8S / "base" / "kafka.yaml").read_text()
    (line,) = [x for x in manifest.splitlines() if "CLUSTER_ID: 59AQxW_URq66JWEb-dMvUA" in x]
    assert "REPLACE" in line
    comment = manifest[: manifest.index(line)].rsplit("stringData:", 1)[1]
    assert "MUST be replaced" in comment
    assert "--new-cluster-id" in comment
    readme = (K8S / "README.md").read_text()
    assert "MUST NOT be used" in readme
    assert "--new-cluster-id" in readme
    assert "python3 -c" not in readme + manifest, "the id comes from the entrypoint, not a one-liner"


@pytest.mark.parametrize("version", ["1.27", None], ids=["k8s-1.27", "k8s-latest"])
def test_builtin_objects_pass_kubernetes_validate_strict(
    rendered: dict[str, Rendered], version: Optional[str], tmp_path: Path
) -> None:
    """Every object of a built-in kind is valid (strict: no unknown field); nothing is skipped."""
    files = []
    for name, result in rendered.items():
        builtin = [d for d in result.docs if not d["apiVersion"].startswith("cert-manager.io/")]
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump_all(builtin))
        files.append(str(path))
    argv = [tool("kubernetes-validate"), "--strict", "--quiet"]
    if version:
        argv += ["--kubernetes-version", version]
    proc = run(argv + files)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARN" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


_STRINGS = {"type": "array", "items": {"type": "string"}}
_ISSUER_REF = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "kind": {"enum": ["Issuer", "ClusterIssuer"]},
        "group": {"const": "cert-manager.io"},
    },
}
_DURATION = {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"}
_USAGES = [
    "signing", "digital signature", "content commitment", "key encipherment", "key agreement",
    "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
    "server auth", "client auth", "code signing", "email protection", "s/mime",
    "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
    "microsoft sgc", "netscape sgc",
]
_METADATA = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}},
}
#: cert-manager.io/v1, written from cert-manager's API reference: the fields of the spec are
#: closed (additionalProperties false) over the full v1 field list.
CERT_MANAGER_SCHEMAS: dict[str, Obj] = {
    "Certificate": {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": "cert-manager.io/v1"},
            "kind": {"const": "Certificate"},
            "metadata": _METADATA,
            "spec": {
                "type": "object",
                "required": ["secretName", "issuerRef"],
                "additionalProperties": False,
                "properties": {
                    "secretName": {"type": "string", "minLength": 1},
                    "issuerRef": _ISSUER_REF,
                    "commonName": {"type": "string", "maxLength": 64},
                    "dnsNames": _STRINGS,
                    "ipAddresses": _STRINGS,
                    "uris": _STRINGS,
                    "emailAddresses": _STRINGS,
                    "otherNames": {"type": "array"},
                    "isCA": {"type": "boolean"},
                    "duration": _DURATION,
                    "renewBefore": _DURATION,
                    "renewBeforePercentage": {"type": "integer"},
                    "revisionHistoryLimit": {"type": "integer", "minimum": 1},
                    "usages": {"type": "array", "items": {"enum": _USAGES}},
                    "privateKey": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "algorithm": {"enum": ["RSA", "ECDSA", "Ed25519"]},
                            "encoding": {"enum": ["PKCS1", "PKCS8"]},
                            "size": {"type": "integer"},
                            "rotationPolicy": {"enum": ["Never", "Always"]},
                        },
                    },
                    "subject": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            **{
                                k: _STRINGS
                                for k in (
                                    "organizations", "countries", "organizationalUnits",
                                    "localities", "provinces", "streetAddresses", "postalCodes",
                                )
                            },
                            "serialNumber": {"type": "string"},
                        },
                    },
                    "literalSubject": {"type": "string"},
                    "secretTemplate": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"labels": {"type": "object"}, "annotations": {"type": "object"}},
                    },
                    "keystores": {"type": "object"},
                    "additionalOutputFormats": {"type": "array"},
                    "encodeUsagesInRequest": {"type": "boolean"},
                    "nameConstraints": {"type": "object"},
                    "signatureAlgorithm": {"type": "string"},
                },
            },
        },
    },
    "Issuer": {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": "cert-manager.io/v1"},
            "kind": {"const": "Issuer"},
            "metadata": _METADATA,
            "spec": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "maxProperties": 1,  # exactly one issuer type
                "properties": {
                    "selfSigned": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"crlDistributionPoints": _STRINGS},
                    },
                    "ca": {
                        "type": "object",
                        "required": ["secretName"],
                        "additionalProperties": False,
                        "properties": {
                            "secretName": {"type": "string", "minLength": 1},
                            "crlDistributionPoints": _STRINGS,
                            "issuingCertificateURLs": _STRINGS,
                            "ocspServers": _STRINGS,
                        },
                    },
                    "acme": {"type": "object"},
                    "vault": {"type": "object"},
                    "venafi": {"type": "object"},
                },
            },
        },
    },
}


def cert_manager_errors(doc: Obj) -> list[str]:
    schema = CERT_MANAGER_SCHEMAS.get(doc["kind"])
    if schema is None:
        return [f"{doc['kind']}: no schema here for this cert-manager kind"]
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_cert_manager_objects_match_their_schema(out: Rendered) -> None:
    """Certificates and Issuers are valid cert-manager.io/v1 objects (schemas above)."""
    for doc in out.docs:
        if doc["apiVersion"].startswith("cert-manager.io/"):
            assert cert_manager_errors(doc) == [], (doc["kind"], doc["metadata"]["name"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c["spec"].update(dnsName=["x"]), "Additional properties"),
        (lambda c: c["spec"]["privateKey"].update(encoding="pkcs8"), "is not one of"),
        (lambda c: c["spec"].pop("issuerRef"), "'issuerRef' is a required property"),
        (lambda c: c["spec"].update(usages=["server-auth"]), "is not one of"),
        (lambda c: c["spec"].update(duration="90d"), "does not match"),
    ],
    ids=["typo", "lower-case-encoding", "no-issuer", "bad-usage", "bad-duration"],
)
def test_cert_manager_schema_rejects_mistakes(
    rendered: dict[str, Rendered], change: Any, expected: str
) -> None:
    """The schema check can fail: a typo, a wrong enum, a missing field are each reported."""
    cert = yaml.safe_load(yaml.safe_dump(rendered["secure"].get("Certificate", "kafka-tls")))
    change(cert)
    errors = cert_manager_errors(cert)
    assert any(expected in e for e in errors), errors


def test_sources_pass_yamllint() -> None:
    """The overlay and component sources pass yamllint --strict with the manifests' settings."""
    sources = sorted(
        str(p)
        for directory in ("base", "components", "overlays")
        for p in (K8S / directory).rglob("*.yaml")
    )
    assert len(sources) >= 12, sources
    proc = run([tool("yamllint"), "--strict", "-c", str(K8S / ".yamllint.yaml"), *sources])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rendered_output_passes_yamllint(rendered: dict[str, Rendered], tmp_path: Path) -> None:
    """kustomize's output passes yamllint (its own layout allowed: no '---' first, sequences
    not indented), so duplicate keys, truthy values and the like cannot hide in it."""
    config = tmp_path / "yamllint.yaml"
    config.write_text(
        "extends: default\nrules:\n  document-start: disable\n"
        "  indentation: {spaces: 2, indent-sequences: whatever}\n  line-length: {max: 120}\n"
    )
    files = []
    for name, result in rendered.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(result.text)
        files.append(str(path))
    proc = run([tool("yamllint"), "--strict", "-c", str(config), *files])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_secure_overlay_does_not_render_without_passwords(kustomize: str, tmp_path: Path) -> None:
    """A clean clone has no password: kustomize refuses to render the secure overlay until the
    user made them, so no cluster runs with a password from the repository; git ignores them."""
    root = copy_k8s(tmp_path / "k8s")
    proc = run([kustomize, "build", str(root / "overlays" / "secure")])
    assert proc.returncode != 0
    assert "users/kafka" in proc.stderr, proc.stderr
    probe = K8S / USERS_DIR / "some-user"
    assert run(["git", "-C", str(REPO), "check-ignore", "-q", str(probe)]).returncode == 0
    gitignore = K8S / USERS_DIR / ".gitignore"
    assert run(["git", "-C", str(REPO), "check-ignore", "-q", str(gitignore)]).returncode == 1


# --- consistency ---------------------------------------------------------------------------


def test_every_object_is_in_the_namespace(out: Rendered) -> None:
    """Everything but the Namespace itself lives in kafka-kraft, with the instance labels."""
    for doc in out.docs:
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == NAMESPACE
            continue
        assert doc["metadata"].get("namespace") == NAMESPACE, (doc["kind"], doc["metadata"]["name"])
        assert doc["metadata"]["labels"]["app.kubernetes.io/instance"] == "kafka"


def test_every_pod_variable_is_in_the_spec(out: Rendered) -> None:
    """Each variable a pod sets is read by the entrypoint (SPEC.md), by Kafka's scripts, or is
    a helper that another variable expands with $(NAME); each $(NAME) is defined before it is
    used (Kubernetes expands only earlier ones, and leaves the rest as literal text)."""
    for sts in out.all("StatefulSet"):
        items = env_items(sts)
        names = [e["name"] for e in items]
        assert len(names) == len(set(names)), f"duplicate variables: {names}"
        referenced = {ref for e in items for ref in _VAR_REF.findall(e.get("value", ""))}
        for position, item in enumerate(items):
            name = item["name"]
            known = (
                name in SPEC_VARIABLES
                or name in KAFKA_SCRIPT_VARIABLES
                or (name.startswith("KAFKA_CFG_") and name != "KAFKA_CFG_")
                or name in referenced
            )
            assert known, f"{sts['metadata']['name']}: {name} is read by nobody"
            for ref in _VAR_REF.findall(item.get("value", "")):
                assert ref in names[:position], f"{name} uses $({ref}) before it is defined"


def test_every_secret_reference_resolves(out: Rendered) -> None:
    """secretKeyRef keys exist in their Secret; Secret volumes come from a Secret in the output
    or from a cert-manager Certificate (whose Secret holds tls.crt, tls.key, ca.crt)."""
    certificates = {c["spec"]["secretName"]: c for c in out.all("Certificate")}
    for sts in out.all("StatefulSet"):
        for item in env_items(sts):
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in secret_keys(out.get("Secret", ref["name"])), item
        for volume in sts["spec"]["template"]["spec"].get("volumes", []):
            if "secret" not in volume:
                continue
            name = volume["secret"]["secretName"]
            secret = out.maybe("Secret", name)
            if secret is not None:
                keys = set(secret_keys(secret))
            else:
                assert name in certificates, f"Secret {name} is neither in the output nor a Certificate's"
                keys = {"tls.crt", "tls.key", "ca.crt"}
            for item in volume["secret"].get("items", []):
                assert item["key"] in keys, (name, item)
            assert volume["secret"].get("optional") is not True, "a missing Secret must stop the pod"


def test_every_mount_has_a_volume_and_the_pod_stays_locked_down(out: Rendered) -> None:
    """Every volumeMount names a volume or claim; every pod runs non-root on a read-only root
    filesystem without privileges; Secret mounts are read-only and not world-readable."""
    for sts in out.all("StatefulSet"):
        spec = sts["spec"]["template"]["spec"]
        c = container(sts)
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        claims = {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates", [])}
        for mount in c["volumeMounts"]:
            assert mount["name"] in volumes or mount["name"] in claims, mount
            volume = volumes.get(mount["name"], {})
            if "secret" in volume:
                assert mount.get("readOnly") is True, mount
                assert volume["secret"].get("defaultMode", 0o644) & 0o007 == 0, volume
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 1000
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_ports_in_env_match_container_ports_and_probes(out: Rendered) -> None:
    """BROKER_PORT, CONTROLLER_PORT and EXTERNAL_PORT are the named container ports of pods
    that have that listener, and no pod declares a port it does not listen on; every probe is
    a TCP connect to one of them (TCP needs no TLS or password, so probes survive the secure
    component)."""
    for sts in out.all("StatefulSet"):
        env = literal_env(sts)
        expected = {"controller": int(env["CONTROLLER_PORT"])}
        if is_controller_set(sts):
            external = [k for k in set_env(sts) if k.startswith("EXTERNAL_")]
            assert not external, "a controller-only pod has no EXTERNAL listener"
        else:
            expected["broker"] = int(env["BROKER_PORT"])
            if "CONTROLLER_STATEFULSET" in env:  # dedicated brokers: no controller listener
                del expected["controller"]
        if "EXTERNAL_HOST" in env:
            expected["external"] = int(env["EXTERNAL_PORT"])
        assert named_ports(sts) == expected, sts["metadata"]["name"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            spec = container(sts)[probe]
            assert set(spec) & {"tcpSocket", "httpGet", "exec", "grpc"} == {"tcpSocket"}, probe
            port = spec["tcpSocket"]["port"]
            listener = "controller" if is_controller_set(sts) else "broker"
            assert port == listener, f"{probe} probes {port}; this pod's own listener is {listener}"


def statefulset_of(out: Rendered, selector: Mapping[str, str]) -> list[str]:
    return [s["metadata"]["name"] for s in out.all("StatefulSet") if selects(selector, template_labels(s))]


def test_statefulsets_have_their_headless_service_and_disjoint_selectors(out: Rendered) -> None:
    """Each StatefulSet's serviceName is a headless Service publishing not-ready pods, its
    selector matches its own pods and no other StatefulSet's, and its SERVICE is serviceName."""
    sets = out.all("StatefulSet")
    for sts in sets:
        labels = template_labels(sts)
        assert statefulset_of(out, sts["spec"]["selector"]["matchLabels"]) == [sts["metadata"]["name"]]
        headless = out.get("Service", sts["spec"]["serviceName"])
        assert headless["spec"]["clusterIP"] == "None"
        assert headless["spec"]["publishNotReadyAddresses"] is True
        assert selects(headless["spec"]["selector"], labels)
        assert literal_env(sts)["SERVICE"] == sts["spec"]["serviceName"]
        assert sts["spec"]["podManagementPolicy"] == "Parallel"


def test_services_reach_the_pods_and_ports_they_name(out: Rendered) -> None:
    """Every Service selects pods that declare each of its target ports; kafka-client selects
    brokers only (a controller-only pod has no broker port)."""
    for service in out.all("Service"):
        selector = dict(service["spec"]["selector"])
        pod_name = selector.pop("statefulset.kubernetes.io/pod-name", None)
        targets = statefulset_of(out, selector)
        assert targets, f"Service {service['metadata']['name']} selects no pods"
        for port in service["spec"]["ports"]:
            assert any(port["targetPort"] in named_ports(out.get("StatefulSet", t)) for t in targets), port
        if service["metadata"]["name"] == "kafka-client" or pod_name:
            for t in targets:
                assert has_broker_role(out.get("StatefulSet", t)), (service["metadata"]["name"], t)
                ports = named_ports(out.get("StatefulSet", t))
                assert all(p["targetPort"] in ports for p in service["spec"]["ports"])


def test_each_statefulset_has_exactly_one_disruption_budget(out: Rendered) -> None:
    """Each PodDisruptionBudget selects the pods of exactly one StatefulSet, and each
    StatefulSet has exactly one: one voter or one broker down at a time."""
    covered: dict[str, str] = {}
    for pdb in out.all("PodDisruptionBudget"):
        targets = statefulset_of(out, pdb["spec"]["selector"]["matchLabels"])
        assert len(targets) == 1, f"PDB {pdb['metadata']['name']} selects {targets}"
        assert targets[0] not in covered, f"{targets[0]} has two budgets"
        covered[targets[0]] = pdb["metadata"]["name"]
        assert pdb["spec"]["maxUnavailable"] == 1
    assert set(covered) == {s["metadata"]["name"] for s in out.all("StatefulSet")}


def nodeport_services(out: Rendered) -> list[Obj]:
    return [s for s in out.all("Service") if s["spec"].get("type") == "NodePort"]


def test_nodeport_services_expose_one_pod_each_on_its_advertised_port(out: Rendered) -> None:
    """With EXTERNAL_PORT_BASE, Service N selects exactly pod <sts>-N (pod-name label), forwards
    to its external port, and its nodePort is BASE+N, the port that pod advertises; pods
    0..replicas-1 all have one; the ports are distinct and in the NodePort range."""
    brokers = [s for s in out.all("StatefulSet") if "EXTERNAL_PORT_BASE" in literal_env(s)]
    if "external" not in out.name:
        assert not brokers
        assert not nodeport_services(out)
        return
    (sts,) = brokers
    env = literal_env(sts)
    assert env["EXTERNAL_HOST"] == "$(HOST_IP)"
    host_ip = next(e for e in env_items(sts) if e["name"] == "HOST_IP")
    assert host_ip["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIP"
    assert "EXTERNAL_ADVERTISED_PORT" not in env, "it excludes EXTERNAL_PORT_BASE (SPEC)"
    base = int(env["EXTERNAL_PORT_BASE"])
    name = sts["metadata"]["name"]
    seen: dict[int, int] = {}
    for service in nodeport_services(out):
        selector = service["spec"]["selector"]
        pod = selector["statefulset.kubernetes.io/pod-name"]
        match = re.fullmatch(rf"{re.escape(name)}-(0|[1-9][0-9]*)", pod)
        assert match, pod
        ordinal = int(match.group(1))
        others = {k: v for k, v in selector.items() if k != "statefulset.kubernetes.io/pod-name"}
        assert statefulset_of(out, others) == [name]
        (port,) = service["spec"]["ports"]
        assert port["targetPort"] == "external"
        assert port["nodePort"] == base + ordinal
        assert 30000 <= port["nodePort"] <= 32767
        assert port["nodePort"] not in seen
        seen[port["nodePort"]] = ordinal
        assert service["spec"]["externalTrafficPolicy"] == "Local"
    assert sorted(seen.values()) == list(range(sts["spec"]["replicas"]))


def certificate_for(out: Rendered, secret_name: str) -> Obj:
    (cert,) = [c for c in out.all("Certificate") if c["spec"]["secretName"] == secret_name]
    return cert


def test_secure_pods_get_what_the_entrypoint_needs(out: Rendered) -> None:
    """Secure overlays: TLS_DIR is the read-only mount of a cert-manager Secret with a PKCS#8 key
    for server and client use; SASL_USERS_DIR is a mounted Secret holding the inter-broker user
    and every super user with a password; ACLs on. Every StatefulSet of the cluster has it."""
    sets = out.all("StatefulSet")
    if "secure" not in out.name:
        assert not any("TLS_DIR" in literal_env(s) or "SASL_USERS_DIR" in literal_env(s) for s in sets)
        assert not out.all("Certificate")
        return
    for sts in sets:
        env = literal_env(sts)
        assert env["AUTHORIZATION"] == "acl"
        tls = mount_of(sts, env["TLS_DIR"])
        assert tls, "TLS_DIR is not a volume mount"
        cert = certificate_for(out, tls[1]["secret"]["secretName"])
        assert cert["spec"]["privateKey"]["encoding"] == "PKCS8"
        assert {"server auth", "client auth"} <= set(cert["spec"]["usages"])
        users_mount = mount_of(sts, env["SASL_USERS_DIR"])
        assert users_mount, "SASL_USERS_DIR is not a volume mount"
        users = secret_keys(out.get("Secret", users_mount[1]["secret"]["secretName"]))
        wanted = {env["SASL_INTER_BROKER_USER"], *env["SUPER_USERS"].split(",")}
        for user in wanted:
            assert users.get(user), f"user {user} has no password in the users Secret"
        assert "TLS_CLIENT_AUTH" not in env or env["TLS_CLIENT_AUTH"] in ("required", "requested", "none")


def test_certificate_names_every_pod_and_the_client_service(out: Rendered) -> None:
    """The node certificate covers every pod FQDN of every StatefulSet (also after scaling), the
    client Service, and every fixed external host; and it is signed by a CA issuer chain that
    fills ca.crt (self-signed Issuer -> CA Certificate -> CA Issuer)."""
    if "secure" not in out.name:
        return
    cert = certificate_for(out, "kafka-tls")
    names = cert["spec"]["dnsNames"]
    for sts in out.all("StatefulSet"):
        for ordinal in range(sts["spec"]["replicas"] + 3):
            host = fqdn(f"{sts['metadata']['name']}-{ordinal}", sts["spec"]["serviceName"])
            assert covers(names, host), host
        external = literal_env(sts).get("EXTERNAL_HOST", "$(")
        if "$(" not in external:  # a fixed host name (with {ordinal}) must be in the certificate
            assert covers(names, external.replace("{ordinal}", "0")), external
    assert covers(names, f"kafka-client.{NAMESPACE}.svc.{CLUSTER_DOMAIN}")
    assert not covers(names, f"kafka-0.other.{NAMESPACE}.svc.{CLUSTER_DOMAIN}")  # covers() can say no
    issuer = out.get("Issuer", cert["spec"]["issuerRef"]["name"])
    ca_cert = certificate_for(out, issuer["spec"]["ca"]["secretName"])
    assert ca_cert["spec"]["isCA"] is True
    root = out.get("Issuer", ca_cert["spec"]["issuerRef"]["name"])
    assert "selfSigned" in root["spec"]


def test_dedicated_layout_separates_controllers_and_brokers(out: Rendered) -> None:
    """Dedicated overlays: kafka-controller runs controllers only (CONTROLLER_STATEFULSET is
    itself, replicas = CONTROLLER_REPLICAS); kafka runs brokers whose voters are its first
    CONTROLLER_REPLICAS pods; node ids never collide as either StatefulSet scales."""
    sets = {s["metadata"]["name"]: s for s in out.all("StatefulSet")}
    if "dedicated" not in out.name:
        assert set(sets) == {"kafka"}
        assert "CONTROLLER_STATEFULSET" not in literal_env(sets["kafka"])
        return
    assert set(sets) == {"kafka", "kafka-controller"}
    controllers, brokers = sets["kafka-controller"], sets["kafka"]
    c_env, b_env = literal_env(controllers), literal_env(brokers)
    assert is_controller_set(controllers)
    assert not is_controller_set(brokers)
    assert b_env["CONTROLLER_STATEFULSET"] == "kafka-controller"
    assert c_env["CONTROLLER_REPLICAS"] == str(controllers["spec"]["replicas"])
    assert b_env["CONTROLLER_REPLICAS"] == c_env["CONTROLLER_REPLICAS"]
    for env in (c_env, b_env):
        assert env.get("CONTROLLER_SERVICE", env["SERVICE"]) == controllers["spec"]["serviceName"]
        assert "REPLICAS" not in env, "REPLICAS means nothing here; CONTROLLER_REPLICAS is the quorum"
        assert env["QUORUM"] == c_env["QUORUM"]
    offset = int(b_env["BROKER_ID_OFFSET"])
    assert int(b_env["CONTROLLER_REPLICAS"]) < offset
    controller_ids = set(range(offset))  # every id a growing (dynamic) controller set can take
    broker_ids = {offset + n for n in range(brokers["spec"]["replicas"] + 50)}
    assert not controller_ids & broker_ids
    assert template_labels(controllers)["app.kubernetes.io/component"] == "controller"
    assert template_labels(brokers)["app.kubernetes.io/component"] == "broker"
    assert container(controllers)["image"] == container(brokers)["image"]


def test_dynamic_variant_sets_the_quorum_and_a_new_enough_image(rendered: dict[str, Rendered]) -> None:
    """dedicated-controllers-dynamic: QUORUM=dynamic on both StatefulSets, an image and version
    label of Kafka >= 3.9; the static overlays keep the default (static)."""
    for name, result in rendered.items():
        for sts in result.all("StatefulSet"):
            quorum = literal_env(sts)["QUORUM"]
            version = tuple(int(x) for x in template_labels(sts)["app.kubernetes.io/version"].split("."))
            if name == "dedicated-controllers-dynamic":
                assert quorum == "dynamic"
                assert version >= (3, 9)
                assert container(sts)["image"].endswith(f"kafka-{'.'.join(map(str, version))}")
            else:
                assert quorum == "static"
                assert version == (3, 3, 2)


# --- the entrypoint with each emulated pod's environment -----------------------------------

HOST_IPS = ("192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13")


def expand(value: str, defined: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) expansion: earlier variables only, $$ escapes, unknown kept as is."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else defined.get(m.group(1), m.group(0)), value)


def pod_environment(out: Rendered, sts: Obj, ordinal: int) -> dict[str, str]:
    """What the kubelet gives pod <sts>-<ordinal>: literal values expanded, fieldRef and
    secretKeyRef resolved (the node of pod N has IP HOST_IPS[N])."""
    pod = f"{sts['metadata']['name']}-{ordinal}"
    fields = {"metadata.name": pod, "metadata.namespace": NAMESPACE, "status.hostIP": HOST_IPS[ordinal]}
    env: dict[str, str] = {}
    for item in env_items(sts):
        if "value" in item:
            env[item["name"]] = expand(item["value"], env)
            continue
        source = item["valueFrom"]
        if "fieldRef" in source:
            env[item["name"]] = fields[source["fieldRef"]["fieldPath"]]
        else:
            ref = source["secretKeyRef"]
            env[item["name"]] = secret_keys(out.get("Secret", ref["name"]))[ref["key"]]
    return env


def fake_kafka_home(root: Path, version: str) -> Path:
    """An installation as far as --dry-run reads it: the version-named jar and the template."""
    home = root / f"kafka-{version}"
    (home / "libs").mkdir(parents=True)
    (home / "libs" / f"kafka_2.13-{version}.jar").write_bytes(b"")
    template = (REPO / "tests" / "fixtures" / "server.properties").read_bytes()
    for place in ("config/kraft/server.properties", "config/server.properties"):
        (home / place).parent.mkdir(parents=True, exist_ok=True)
        (home / place).write_bytes(template)
    return home


def unescape(value: str) -> str:
    return value.replace("\\:", ":").replace("\\=", "=").replace("\\\\", "\\")


def package_variables() -> set[str]:
    from kraft_entrypoint import options

    return {option.variable for option in options.OPTIONS}


@dataclasses.dataclass(frozen=True)
class PodCase:
    overlay: str
    statefulset: str
    ordinal: int

    def __str__(self) -> str:
        return f"{self.overlay}:{self.statefulset}-{self.ordinal}"


def pod_cases() -> Iterator[PodCase]:
    """Pods 0 and 3 (one past the initial replicas, as after kubectl scale) of each StatefulSet;
    a static quorum's controllers never scale, so kafka-controller-3 only where it is dynamic."""
    for overlay in RENDERED:
        yield PodCase(overlay, "kafka", 0)
        yield PodCase(overlay, "kafka", 3)
        if "dedicated" in overlay:
            yield PodCase(overlay, "kafka-controller", 0)
        if "dynamic" in overlay:
            yield PodCase(overlay, "kafka-controller", 3)


@pytest.mark.parametrize("case", list(pod_cases()), ids=str)
def test_each_pods_environment_gives_the_expected_dry_run(
    case: PodCase, rendered: dict[str, Rendered], tree: Tree, tmp_path: Path
) -> None:
    """The entrypoint's --dry-run with the environment the pod gets (Secrets as the kubelet
    mounts them, the TLS Secret made with openssl for the Certificate's names): node id, roles,
    listeners, what is advertised, the quorum, ACLs, and no password in its output."""
    out = rendered[case.overlay]
    sts = out.get("StatefulSet", case.statefulset)
    env = pod_environment(out, sts, case.ordinal)
    missing = sorted(({*env} & SPEC_VARIABLES) - package_variables())
    if missing:
        pytest.xfail(f"the entrypoint does not read {', '.join(missing)} yet (SPEC.md)")
    dedicated = "dedicated" in case.overlay

    secure = "TLS_DIR" in env
    secrets_shown: list[str] = []
    if secure:
        cert = certificate_for(out, "kafka-tls")
        ca = pki.new_ca(tmp_path / "pki")
        node = ca.issue("node", dns_names=cert["spec"]["dnsNames"], common_name=cert["spec"]["commonName"])
        env["TLS_DIR"] = str(pki.write_tls_secret(tmp_path / "tls", node))
        secrets_shown.append(node.key.read_text().splitlines()[1])
    if "SASL_USERS_DIR" in env:
        users_mount = mount_of(sts, literal_env(sts)["SASL_USERS_DIR"])
        assert users_mount
        users = secret_keys(out.get("Secret", users_mount[1]["secret"]["secretName"]))
        assert users == tree.passwords
        env["SASL_USERS_DIR"] = str(pki.write_users_secret(tmp_path / "users", users))
        secrets_shown += users.values()
    version = template_labels(sts)["app.kubernetes.io/version"]
    env.update(
        PATH=os.environ.get("PATH", "/usr/bin:/bin"),
        PYTHONPATH=str(REPO),
        KAFKA_HOME=str(fake_kafka_home(tmp_path, version)),
        KRAFT_CONFIG=str(tmp_path / "config" / "server.properties"),
    )
    (tmp_path / "config").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "kraft_entrypoint", "--dry-run"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for secret in secrets_shown:
        assert secret not in proc.stdout + proc.stderr, "a secret reached the output"
    config = {
        k: unescape(v)
        for k, _, v in (line.partition("=") for line in proc.stdout.splitlines())
        if v and not k.startswith("#")
    }
    e = literal_env(sts)
    controller_sts = e.get("CONTROLLER_STATEFULSET", "kafka")
    voters = int(e["CONTROLLER_REPLICAS"])
    is_controller = case.statefulset == controller_sts and (dedicated or case.ordinal < voters)
    is_broker = case.statefulset == "kafka"
    node_id = case.ordinal + (int(e["BROKER_ID_OFFSET"]) if dedicated and is_broker else 0)
    assert config["node.id"] == str(node_id)
    roles = [r for r, wanted in (("broker", is_broker), ("controller", is_controller)) if wanted]
    assert config["process.roles"].split(",") == roles

    pod = f"{case.statefulset}-{case.ordinal}"
    protocol = {(False, False): "PLAINTEXT", (True, False): "SSL", (False, True): "SASL_PLAINTEXT",
                (True, True): "SASL_SSL"}[(secure, "SASL_USERS_DIR" in env)]
    protocols = dict(item.split(":", 1) for item in config["listener.security.protocol.map"].split(","))
    listeners = {item.split("://")[0] for item in config["listeners"].split(",")}
    if is_broker:
        advertised = config["advertised.listeners"].split(",")
        assert f"{protocol}://{fqdn(pod, e['SERVICE'])}:{e['BROKER_PORT']}" in advertised
        assert protocols[protocol] == protocol
        if "EXTERNAL_HOST" in env:
            port = int(e["EXTERNAL_PORT_BASE"]) + case.ordinal
            assert f"EXTERNAL://{HOST_IPS[case.ordinal]}:{port}" in advertised
            assert protocols["EXTERNAL"] == protocol
            assert f"EXTERNAL://:{e['EXTERNAL_PORT']}" in config["listeners"].split(",")
    else:
        assert listeners == {"CONTROLLER"}
    if is_controller:
        assert f"CONTROLLER://:{e['CONTROLLER_PORT']}" in config["listeners"].split(",")
        if e["QUORUM"] == "dynamic":  # add-controller and auto-join register what is advertised
            advertised_controller = f"CONTROLLER://{fqdn(pod, e['SERVICE'])}:{e['CONTROLLER_PORT']}"
            assert advertised_controller in config.get("advertised.listeners", "").split(",")
    controller_protocol = "SSL" if secure else "SASL_PLAINTEXT" if "SASL_USERS_DIR" in env else "PLAINTEXT"
    assert protocols["CONTROLLER"] == controller_protocol

    controller_service = e.get("CONTROLLER_SERVICE", e["SERVICE"])
    endpoints = [
        f"{fqdn(f'{controller_sts}-{i}', controller_service)}:{e['CONTROLLER_PORT']}" for i in range(voters)
    ]
    if e["QUORUM"] == "dynamic":
        assert config["controller.quorum.bootstrap.servers"].split(",") == endpoints
        assert "controller.quorum.voters" not in config
    else:
        voter_list = [f"{i}@{endpoint}" for i, endpoint in enumerate(endpoints)]
        assert config["controller.quorum.voters"].split(",") == voter_list
    if e.get("AUTHORIZATION") == "acl":
        assert config["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
        super_users = config["super.users"].split(";")
        assert "User:admin" in super_users
        assert f"User:{e['SASL_INTER_BROKER_USER']}" in super_users
