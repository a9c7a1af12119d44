"""Static proof for docker/Dockerfile and k8s/*.yaml: linters, schemas, and consistency.

No container runs here (these tests are in the normal test command). The consistency tests
read the manifests, the Dockerfile, pyproject.toml and the entrypoint's own click command, and
run the entrypoint's ``--dry-run`` with each emulated pod's environment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kraftlab import container as h
from manifests import manifest_pods as k8s

MANIFESTS = sorted(p for p in (h.REPO / "k8s").glob("*.yaml") if not p.name.startswith("."))
YAMLLINT_CONFIG = h.REPO / "k8s" / ".yamllint.yaml"
SECRET_CLUSTER_ID = "59AQxW_URq66JWEb-dMvUA"  # noqa: S105 - the manifest's example id
#: kafka_2.13-3.3.2.tgz as published by Apache, read in Strimzi's kafka-versions.yaml (3.3.2) and in
#: Debezium's container-images kafka/2.2/Dockerfile (its Kafka 3.3.2 upgrade): the same value.
VERSIONS_FILE = h.REPO / "docker" / "kafka-versions.txt"
KAFKA_3_3_2_SHA512 = (
    "F56657105A67F6195C1D4795B5FB4A00FC5E2F5CCE061D7F7A504063778187B3"
    "25C6FBE51D7C59F57CD7EF323A37D4C2C780C27A5609A2008852CBFA944287B3"
)

#: Variables Kafka's own start scripts read (bin/kafka-run-class.sh, kafka-server-start.sh).
KAFKA_SCRIPT_VARIABLES = {
    "KAFKA_HEAP_OPTS",
    "KAFKA_JVM_PERFORMANCE_OPTS",
    "KAFKA_GC_LOG_OPTS",
    "KAFKA_JMX_OPTS",
    "JMX_PORT",
    "KAFKA_LOG4J_OPTS",
    "KAFKA_OPTS",
    "LOG_DIR",
    "EXTRA_ARGS",
}


def tool(name: str) -> str:
    """A linter installed with the test extra: next to this Python, or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    assert found, f"{name} is not installed: install the project's test extra"
    return found


def lint(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{' '.join(argv)}\n{proc.stdout}\n{proc.stderr}"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of docker/Dockerfile, continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for line in h.DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    result = []
    for entry in logical:
        word, _, rest = entry.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def entrypoint_variables() -> set[str]:
    """Every variable the entrypoint's click command reads (SPEC: every option has one)."""
    from kraft_entrypoint.cli import command

    names: set[str] = set()
    for param in command.params:
        envvar = getattr(param, "envvar", None)
        if isinstance(envvar, str):
            names.add(envvar)
        elif envvar:
            names.update(envvar)
    return names


def statefulset(path: Path) -> tuple[list[k8s.Obj], k8s.Obj]:
    docs = k8s.load(path)
    return docs, k8s.find(docs, "StatefulSet", "kafka")


# --- linters -------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    lint([tool("hadolint"), "--failure-threshold", "info", str(h.DOCKERFILE)])


def test_every_hadolint_ignore_is_justified_by_a_comment() -> None:
    lines = h.DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore" in line:
            previous = lines[number - 1].strip() if number else ""
            message = f"line {number + 1}: an ignore needs a justifying comment line above it"
            assert previous.startswith("#"), message
            assert "hadolint" not in previous, message


@pytest.mark.parametrize("version", ["1.27", None], ids=["k8s-1.27", "k8s-latest"])
def test_manifests_pass_kubernetes_validate_strict(version: str | None) -> None:
    argv = [tool("kubernetes-validate"), "--strict", "--quiet"]
    if version:
        argv += ["--kubernetes-version", version]
    lint(argv + [str(p) for p in MANIFESTS])


def test_manifests_pass_yamllint() -> None:
    lint([tool("yamllint"), "--strict", "-c", str(YAMLLINT_CONFIG), *map(str, MANIFESTS)])


def test_both_manifests_are_checked() -> None:
    assert [p.name for p in MANIFESTS] == ["kafka-shared-volume.yaml", "kafka.yaml"]


# --- the Dockerfile ------------------------------------------------------------------------


def test_dockerfile_base_download_and_checksum_are_build_arguments() -> None:
    args: dict[str, str] = {}
    for word, rest in dockerfile_instructions():
        if word == "ARG" and "=" in rest:  # first default wins (stages re-declare some)
            key, value = rest.split("=", 1)
            args.setdefault(key, value)
    assert args["BASE_IMAGE"] == "openjdk:11"
    assert args["KAFKA_URL"] == (
        "https://archive.apache.org/dist/kafka/${KAFKA_VERSION}/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.tgz"
    )
    assert args["KAFKA_VERSION"] == "3.3.2"
    assert args["SCALA_VERSION"] == "2.13"
    assert args["KAFKA_SHA512"] == ""  # empty: the value pinned for KAFKA_VERSION is used
    pinned = {line.split()[0]: line.split()[1:] for line in VERSIONS_FILE.read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    assert pinned["3.3.2"][0] == KAFKA_3_3_2_SHA512
    assert {"strimzi", "debezium"} <= set(pinned["3.3.2"][1:])  # two independent sources agree
    header = VERSIONS_FILE.read_text()
    # where each pinned value was read, next to it
    for source in ("strimzi/strimzi-kafka-operator", "kafka-versions.yaml",
                   "debezium/container-images", "kafka/2.2/Dockerfile"):
        assert source in header, source
    text = h.DOCKERFILE.read_text()
    assert "COPY docker/kafka-versions.txt" in text
    # verified before unpacking
    assert text.index("sha512sum --check") < text.index("tar -xzf kafka.tgz")


def test_image_entrypoint_resolves_to_the_package() -> None:
    instructions = dockerfile_instructions()
    entrypoints = [rest for word, rest in instructions if word == "ENTRYPOINT"]
    assert entrypoints == ['["/opt/kraft-entrypoint/bin/kraft-entrypoint"]']
    venv = "/opt/kraft-entrypoint"
    assert any(word == "RUN" and f"python3 -m venv {venv}" in rest for word, rest in instructions)
    # [project.scripts] (read with a pattern: tomllib is 3.11+, the suite runs on 3.9 too)
    scripts = re.search(
        r"^\[project\.scripts\]\n(.*?)(?:^\[|\Z)", (h.REPO / "pyproject.toml").read_text(), re.M | re.S
    )
    assert scripts, "pyproject.toml has no [project.scripts]"
    found = re.search(r'^kraft-entrypoint\s*=\s*"([^"]+)"', scripts.group(1), re.M)
    assert found, scripts.group(1)
    target = found.group(1)
    module, _, attr = target.partition(":")
    imported = __import__(module, fromlist=[attr])
    assert callable(getattr(imported, attr))


def test_image_runs_as_the_uid_the_manifests_expect() -> None:
    instructions = dockerfile_instructions()
    uid = next(
        rest.split("=", 1)[1]
        for word, rest in instructions
        if word == "ARG" and rest.startswith("KAFKA_UID=")
    )
    users = [rest for word, rest in instructions if word == "USER"]
    assert users == ["${KAFKA_UID}:${KAFKA_UID}"]
    for path in MANIFESTS:
        psc = statefulset(path)[1]["spec"]["template"]["spec"]["securityContext"]
        assert psc["runAsNonRoot"] is True
        assert str(psc["runAsUser"]) == uid
        assert str(psc["fsGroup"]) == uid


def test_dockerignore_keeps_the_context_to_the_package() -> None:
    lines = [
        line.strip()
        for line in (h.REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    for needed in ("!pyproject.toml", "!kraft_entrypoint/"):
        assert needed in lines


# --- manifest consistency ------------------------------------------------------------------


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_services_ports_and_labels_agree_with_the_statefulset(path: Path) -> None:
    docs, sts = statefulset(path)
    spec = sts["spec"]
    template = spec["template"]
    labels = template["metadata"]["labels"]
    (container,) = template["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert {"broker": 9092, "controller": 9093}.items() <= ports.items()
    assert set(ports) <= {"broker", "controller", "metrics"}

    assert sts["metadata"]["namespace"] == "kafka-kraft"
    assert k8s.selects(spec["selector"]["matchLabels"], labels)
    assert spec["podManagementPolicy"] == "Parallel"
    for key in ("name", "instance", "component", "part-of", "version"):
        assert f"app.kubernetes.io/{key}" in labels

    headless = k8s.find(docs, "Service", spec["serviceName"])
    assert spec["serviceName"] == "kafka-svc"
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    assert k8s.selects(headless["spec"]["selector"], labels)
    assert {(9092, "broker"), (9093, "controller")} <= {
        (p["port"], p["targetPort"]) for p in headless["spec"]["ports"]
    }

    client = k8s.find(docs, "Service", "kafka-client")
    assert client["spec"].get("clusterIP") != "None"
    assert k8s.selects(client["spec"]["selector"], labels)
    assert {(p["port"], p["targetPort"]) for p in client["spec"]["ports"]} == {(9092, "broker")}

    pdb = k8s.find(docs, "PodDisruptionBudget", "kafka")
    assert k8s.selects(pdb["spec"]["selector"]["matchLabels"], labels)
    assert pdb["spec"]["maxUnavailable"] == 1

    for probe, kind in (("startupProbe", "startup"), ("readinessProbe", "ready"), ("livenessProbe", "live")):
        # Kafka's own answers, not an open port: kraft-entrypoint probe <kind> in the container
        assert container[probe]["exec"]["command"][-4:] == ["-m", "kraft_entrypoint", "probe", kind], probe
        assert container[probe]["timeoutSeconds"] > 5, "above PROBE_TIMEOUT's default of 5 s"

    for doc in docs:
        if doc["kind"] not in ("Namespace", "PersistentVolume"):
            assert doc["metadata"]["namespace"] == "kafka-kraft", doc["metadata"]["name"]


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_variable_the_pod_sets_is_read_by_the_entrypoint_or_kafka(path: Path) -> None:
    _, sts = statefulset(path)
    (container,) = sts["spec"]["template"]["spec"]["containers"]
    known = entrypoint_variables()
    assert {"HOSTNAME", "REPLICAS", "SERVICE", "NAMESPACE", "SHARE_DIR"} <= known
    for var in container["env"]:
        name = var["name"]
        assert name in known or name.startswith("KAFKA_CFG_") or name in KAFKA_SCRIPT_VARIABLES, (
            f"{path.name}: {name} is read by neither the entrypoint nor Kafka's scripts"
        )
    env = {v["name"]: v.get("value") for v in container["env"]}
    assert env["SERVICE"] == sts["spec"]["serviceName"]
    assert env["REPLICAS"] == str(sts["spec"]["replicas"])
    assert int(env["CONTROLLER_REPLICAS"]) <= int(env["REPLICAS"])


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_heap_follows_the_memory_limit(path: Path) -> None:
    """No hand-set heap: MEMORY_LIMIT comes from the container's own limit (downward API), and that
    limit leaves the entrypoint's default 50 % heap at least 256 MiB with 256 MiB to spare."""
    _, sts = statefulset(path)
    (container,) = sts["spec"]["template"]["spec"]["containers"]
    env = {v["name"]: v for v in container["env"]}
    assert "KAFKA_HEAP_OPTS" not in env
    assert env["MEMORY_LIMIT"]["valueFrom"]["resourceFieldRef"]["resource"] == "limits.memory"
    assert env["MEMORY_LIMIT"]["valueFrom"]["resourceFieldRef"].get("divisor", "1") in ("1", 1)
    resources = container["resources"]
    limit = k8s.memory_bytes(resources["limits"]["memory"])
    assert k8s.memory_bytes(resources["requests"]["memory"]) <= limit
    assert limit // 2 >= 256 * 2**20


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_path_written_is_a_volume_under_a_read_only_root(path: Path) -> None:
    docs, sts = statefulset(path)
    (container,) = sts["spec"]["template"]["spec"]["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    image_env = dict(
        item.split("=", 1)
        for word, rest in dockerfile_instructions()
        if word == "ENV"
        for item in rest.split()
    )
    mounts = [m["mountPath"] for m in container["volumeMounts"]]
    pod = k8s.pod(docs, "kafka", 0, volume_prefix="static")
    data = pod.env.get("DATA_DIR") or pod.env["SHARE_DIR"]
    written = [os.path.dirname(image_env["KRAFT_CONFIG"]), image_env["LOG_DIR"], "/tmp", data]
    for target in written:
        assert any(target == m or target.startswith(m + "/") for m in mounts), target


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
@pytest.mark.parametrize("ordinal", [0, 2, 3], ids=["kafka-0", "kafka-2", "kafka-3-scaled"])
def test_each_pods_environment_gives_a_valid_dry_run(path: Path, ordinal: int, tmp_path: Path) -> None:
    """The entrypoint accepts every pod's environment as the emulated Kubernetes gives it
    (kafka-3: the StatefulSet scaled to 4, a broker-only pod), and derives ports and names
    that match the Services and the container ports."""
    docs, _ = statefulset(path)
    pod = k8s.pod(docs, "kafka", ordinal, volume_prefix="static")
    kafka_home = tmp_path / "kafka"
    (kafka_home / "config" / "kraft").mkdir(parents=True)
    template = h.REPO / "tests" / "fixtures" / "server.properties"
    shutil.copy(template, kafka_home / "config" / "kraft" / "server.properties")
    (kafka_home / "libs").mkdir()  # the image's Kafka, as far as its version is read
    (kafka_home / "libs" / "kafka_2.13-3.3.2.jar").write_bytes(b"")
    (kafka_home / "metrics").mkdir()  # the pods run METRICS=prometheus: the image's agent and rules
    for name in ("jmx_prometheus_javaagent.jar", "kafka-metrics.yml"):
        (kafka_home / "metrics" / name).write_bytes(b"")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(h.REPO),
        **pod.env,
        "KAFKA_HOME": str(kafka_home),
        "KRAFT_CONFIG": str(tmp_path / "server.properties"),
    }
    if "SHARE_DIR" in env:  # the shared volume, here an empty directory
        env["SHARE_DIR"] = str(tmp_path / "share")
        (tmp_path / "share").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "kraft_entrypoint", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    config = dict(
        line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line and not line.startswith("#")
    )
    unescape = {k: v.replace("\\:", ":").replace("\\=", "=") for k, v in config.items()}
    fqdn = pod.aliases[0]
    assert fqdn == f"kafka-{ordinal}.kafka-svc.kafka-kraft.svc.cluster.local"
    assert unescape["node.id"] == str(ordinal)
    assert unescape["advertised.listeners"] == f"PLAINTEXT://{fqdn}:{pod.ports['broker']}"
    voters = unescape["controller.quorum.voters"].split(",")
    assert voters == [
        f"{i}@kafka-{i}.kafka-svc.kafka-kraft.svc.cluster.local:{pod.ports['controller']}" for i in range(3)
    ]
    expected_roles = "broker,controller" if ordinal < 3 else "broker"
    assert unescape["process.roles"] == expected_roles
    assert unescape["min.insync.replicas"] == "2"
    if "CLUSTER_ID" in pod.env:
        assert pod.env["CLUSTER_ID"] == SECRET_CLUSTER_ID
        assert "from CLUSTER_ID" in proc.stderr
