"""The entrypoint with each rendered pod's environment (as the kubelet gives it: literal values
expanded, fieldRef and secretKeyRef resolved, Secrets mounted): its ``--dry-run`` gives the node
id, roles, listeners, what is advertised, the quorum and ACLs the overlay means.

No container runs here (these tests are in the normal test command)."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from kraft_entrypoint.memory import parse_quantity
from kraftlab import pki

from .support import (
    NAMESPACE,
    RENDERED,
    REPO,
    SPEC_VARIABLES,
    Obj,
    Rendered,
    Tree,
    certificate_for,
    container,
    env_items,
    fqdn,
    literal_env,
    mount_of,
    secret_keys,
    template_labels,
)

HOST_IPS = ("192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13")


def expand(value: str, defined: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) expansion: earlier variables only, $$ escapes, unknown kept as is."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else defined.get(m.group(1), m.group(0)), value)


def pod_environment(out: Rendered, sts: Obj, ordinal: int) -> dict[str, str]:
    """What the kubelet gives pod <sts>-<ordinal>: literal values expanded, fieldRef and
    secretKeyRef resolved, resourceFieldRef as the container's limit (the node of pod N has IP
    HOST_IPS[N])."""
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
        elif "resourceFieldRef" in source:  # limits.memory, divisor 1: the limit in bytes
            ref = source["resourceFieldRef"]
            assert (ref["resource"], str(ref.get("divisor", "1"))) == ("limits.memory", "1"), ref
            env[item["name"]] = str(parse_quantity(container(sts)["resources"]["limits"]["memory"]))
        else:
            ref = source["secretKeyRef"]
            env[item["name"]] = secret_keys(out.get("Secret", ref["name"]))[ref["key"]]
    return env


def fake_kafka_home(root: Path, version: str) -> Path:
    """An installation as far as --dry-run reads it: the version-named jar, the template, and
    the metrics agent and its rules where the image has them (only their existence is read)."""
    home = root / f"kafka-{version}"
    (home / "libs").mkdir(parents=True)
    (home / "libs" / f"kafka_2.13-{version}.jar").write_bytes(b"")
    (home / "metrics").mkdir()
    for name in ("jmx_prometheus_javaagent.jar", "kafka-metrics.yml"):
        (home / "metrics" / name).write_bytes(b"")
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
        # With external access by node IP the Certificate must list the nodes' IPs too (k8s/README.md,
        # "External access"): the entrypoint refuses a certificate that does not cover EXTERNAL_HOST.
        ips = HOST_IPS if "EXTERNAL_HOST" in env else ()
        spec = cert["spec"]
        node = ca.issue("node", dns_names=spec["dnsNames"], common_name=spec["commonName"], ip_addresses=ips)
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
    if env.get("METRICS") == "prometheus":  # every manifest's pods serve /metrics
        port = env.get("METRICS_PORT", "9404")
        agent = f"-javaagent:{env['KAFKA_HOME']}/metrics/jmx_prometheus_javaagent.jar={port}:"
        assert f"metrics: Prometheus on port {port}, server JVM only: {agent}" in proc.stderr
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
