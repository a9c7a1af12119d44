"""k8s/kafka.yaml's StatefulSet run as three real containers of the image, as Kubernetes would.

Kubernetes itself is emulated (``k8s_emulation``: hostnames, DNS aliases on a podman network,
env with fieldRef/secretKeyRef resolved, per-pod volumes, securityContext, memory limit);
everything else is real: the image built from ``docker/Dockerfile``, the entrypoint on the
image's Python 3.9, Kafka 3.3.2, and Kafka's own console tools in a client container.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import k8s_emulation as k8s
import pytest

from kraftlab import container as h

pytestmark = pytest.mark.container

STS = "kafka"
TOPIC = "orders"
TOOL_ENV = ["--env", "KAFKA_HEAP_OPTS=-Xmx128m"]
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], *, timeout: float, every: float = 2.0) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@dataclass
class Cluster:
    """The emulated StatefulSet: pods, their containers, and a client container."""

    prefix: str
    image: str
    docs: list[k8s.Obj]
    network: str
    pods: dict[int, k8s.Pod] = field(default_factory=dict)
    client: str = ""
    volumes: set[str] = field(default_factory=set)

    def container(self, ordinal: int) -> str:
        return f"{self.prefix}-{self.pods[ordinal].name}"

    def fqdn(self, ordinal: int) -> str:
        return self.pods[ordinal].aliases[0]

    @property
    def bootstrap(self) -> str:
        client_svc = next(a for a in self.pods[0].aliases if a.startswith("kafka-client."))
        return f"{client_svc}:{self.pods[0].ports['broker']}"

    def start(self, ordinal: int) -> None:
        """Create pod ``kafka-<ordinal>`` (a new container on the same volumes)."""
        pod = self.pods[ordinal]
        for suffix, _ in pod.empty_dirs:
            volume = k8s.empty_dir_volume(self.container(ordinal), suffix)
            h.run(["podman", "volume", "create", volume], timeout=60)
            self.volumes.add(volume)
            os.chmod(volume_mountpoint(volume), 0o777)  # noqa: S103 - emptyDir's mode
        argv = pod.run_argv(
            container=self.container(ordinal),
            image=self.image,
            network=self.network,
            base_opts=h.PODMAN_RUN_OPTS,
        )
        h.run(argv, timeout=120)

    def delete(self, ordinal: int) -> None:
        """Delete the pod as Kubernetes does: SIGTERM, grace period, then remove."""
        name = self.container(ordinal)
        grace = self.pods[ordinal].stop_timeout
        h.run(["podman", "stop", "--time", str(grace), name], timeout=grace + 60)
        h.run(["podman", "rm", name], timeout=60)
        for suffix, _ in self.pods[ordinal].empty_dirs:
            volume = k8s.empty_dir_volume(name, suffix)
            h.run(["podman", "volume", "rm", volume], timeout=60)
            self.volumes.discard(volume)

    def logs(self, ordinal: int) -> str:
        proc = h.run(["podman", "logs", self.container(ordinal)], timeout=60, check=False)
        return proc.stdout + proc.stderr

    def exec(
        self,
        container: str,
        *argv: str,
        input_text: str | None = None,
        timeout: float = 120,
        check: bool = True,
    ) -> str:
        cmd = [
            "podman",
            "exec",
            *(["--interactive"] if input_text is not None else []),
            *TOOL_ENV,
            container,
            *argv,
        ]
        return h.run(cmd, timeout=timeout, input_text=input_text, check=check).stdout

    def tool(
        self, *argv: str, input_text: str | None = None, timeout: float = 120, check: bool = True
    ) -> str:
        return self.exec(self.client, *argv, input_text=input_text, timeout=timeout, check=check)

    def volume_path(self, ordinal: int, claim: str = "data") -> Path:
        return volume_mountpoint(f"{self.prefix}-{claim}-{self.pods[ordinal].name}")

    def broker_port_open(self, ordinal: int) -> bool:
        """The manifest's tcpSocket probe on the ``broker`` port, run inside the pod."""
        port = self.pods[ordinal].ports["broker"]
        proc = h.run(
            ["podman", "exec", self.container(ordinal), "bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"],
            timeout=30,
            check=False,
        )
        return proc.returncode == 0

    def listening(self, ordinal: int) -> bool:
        """Running (fails at once if the container exited) and its broker port is open."""
        self.assert_running(ordinal)
        return self.broker_port_open(ordinal)

    def assert_running(self, ordinal: int) -> None:
        proc = h.run(
            ["podman", "inspect", "--format", "{{.State.Running}}", self.container(ordinal)], timeout=30
        )
        assert proc.stdout.strip() == "true", (
            f"{self.container(ordinal)} exited:\n{self.logs(ordinal)[-4000:]}"
        )


def volume_mountpoint(volume: str) -> Path:
    proc = h.run(["podman", "volume", "inspect", "--format", "{{.Mountpoint}}", volume], timeout=60)
    return Path(proc.stdout.strip())


def create_claim_volume(name: str, fs_group: int | None) -> None:
    """A PersistentVolumeClaim: a podman volume, group-owned by fsGroup as the kubelet does."""
    h.run(["podman", "volume", "create", name], timeout=60)
    if fs_group is not None:
        path = volume_mountpoint(name)
        os.chown(path, 0, fs_group)
        os.chmod(path, 0o2775)  # noqa: S103 - what fsGroup does to a volume


@pytest.fixture(scope="module")
def cluster(image: str, run_id: str) -> Iterator[Cluster]:
    docs = k8s.load(h.MANIFEST)
    sts = k8s.find(docs, "StatefulSet", STS)
    replicas = int(sts["spec"]["replicas"])
    c = Cluster(prefix=run_id, image=image, docs=docs, network=f"{run_id}-net")
    created_network = False
    try:
        h.run(["podman", "network", "create", c.network], timeout=60)
        created_network = True
        group = k8s.fs_group(docs, STS)
        for ordinal in range(replicas):
            c.pods[ordinal] = k8s.pod(docs, STS, ordinal, volume_prefix=run_id)
            for volume, _ in c.pods[ordinal].volumes:
                create_claim_volume(volume, group)
                c.volumes.add(volume)
        started = time.monotonic()
        for ordinal in range(replicas):  # podManagementPolicy: Parallel
            c.start(ordinal)
        c.client = f"{run_id}-client"
        h.run(
            [
                "podman",
                "run",
                "--detach",
                *h.PODMAN_RUN_OPTS,
                "--name",
                c.client,
                "--network",
                c.network,
                "--entrypoint",
                "sleep",
                image,
                "3600",
            ],
            timeout=120,
        )
        for ordinal in range(replicas):
            wait_for(
                f"{c.container(ordinal)}'s broker port",
                functools.partial(c.listening, ordinal),
                timeout=240,
            )
        h.log(f"3 pods listening {time.monotonic() - started:.1f}s after start")
        yield c
    finally:
        names = [f"{run_id}-{p.name}" for p in c.pods.values()] + ([c.client] if c.client else [])
        for name in names:
            h.run(["podman", "rm", "--force", "--time", "0", name], timeout=120, check=False)
        for volume in sorted(c.volumes):  # claims and the current pods' emptyDirs
            h.run(["podman", "volume", "rm", "--force", volume], timeout=60, check=False)
        if created_network:
            h.run(["podman", "network", "rm", "--force", c.network], timeout=60, check=False)


def quorum_status(c: Cluster) -> dict[str, str] | None:
    out = c.tool(
        "kafka-metadata-quorum.sh",
        "--bootstrap-server",
        c.bootstrap,
        "describe",
        "--status",
        check=False,
        timeout=90,
    )
    status = dict(
        (key.strip(), value.strip())
        for key, sep, value in (line.partition(":") for line in out.splitlines())
        if sep
    )
    return status if status.get("LeaderId", "-1") not in ("-1", "") else None


def partition_isr(c: Cluster) -> dict[int, list[int]] | None:
    out = c.tool(
        "kafka-topics.sh", "--bootstrap-server", c.bootstrap, "--describe", "--topic", TOPIC, check=False
    )
    isr: dict[int, list[int]] = {}
    for match in re.finditer(r"Partition: (\d+)\s.*?Isr: ([\d,]+)", out):
        isr[int(match.group(1))] = sorted(int(x) for x in match.group(2).split(","))
    return isr or None


def produce(c: Cluster, messages: list[str]) -> None:
    """Synchronous sends with acks=all: the tool fails if any send is not acknowledged."""
    c.tool(
        "kafka-console-producer.sh",
        "--bootstrap-server",
        c.bootstrap,
        "--topic",
        TOPIC,
        "--sync",
        "--producer-property",
        "acks=all",
        "--producer-property",
        "linger.ms=0",
        "--producer-property",
        "enable.idempotence=true",
        input_text="".join(m + "\n" for m in messages),
        timeout=180,
    )


def consume_all(c: Cluster, expected: int) -> list[str]:
    out = c.tool(
        "kafka-console-consumer.sh",
        "--bootstrap-server",
        c.bootstrap,
        "--topic",
        TOPIC,
        "--from-beginning",
        "--max-messages",
        str(expected),
        "--timeout-ms",
        "60000",
        timeout=180,
        check=False,
    )
    return [line for line in out.splitlines() if line]


def data_files(c: Cluster, ordinal: int) -> dict[str, bytes]:
    """meta.properties and the topic's segment files in pod ``ordinal``'s data volume."""
    data_dir = Path(c.pods[ordinal].env["DATA_DIR"])
    volume, mount = next((v, Path(m)) for v, m in c.pods[ordinal].volumes if data_dir.is_relative_to(m))
    assert volume.endswith(f"-data-{c.pods[ordinal].name}"), volume
    root = c.volume_path(ordinal) / data_dir.relative_to(mount)
    found = {"meta.properties": (root / "meta.properties").read_bytes()}
    for segment in sorted(root.glob(f"{TOPIC}-*/*.log")):
        found[str(segment.relative_to(root))] = segment.read_bytes()
    return found


def test_pods_get_the_manifests_identity_and_kafka_is_pid_1_as_non_root(cluster: Cluster) -> None:
    for ordinal in cluster.pods:
        name = cluster.container(ordinal)
        cmdline = cluster.exec(name, "cat", "/proc/1/cmdline").replace("\0", " ")
        assert "kafka.Kafka" in cmdline, cmdline
        assert "/var/lib/kafka/config/server.properties" in cmdline
        status = cluster.exec(name, "cat", "/proc/1/status")
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        assert uid_line.split()[1:] == ["1000"] * 4, uid_line
        assert cluster.exec(name, "hostname").strip() == f"kafka-{ordinal}"
        config = cluster.exec(name, "cat", "/var/lib/kafka/config/server.properties")
        assert f"node.id={ordinal}" in config.splitlines()
        assert "log.dirs=/var/lib/kafka/data/kraft" in config.splitlines()
        logs = cluster.logs(ordinal)
        assert "cluster id 59AQxW_URq66JWEb-dMvUA from CLUSTER_ID" in logs
        assert "format: running kafka-storage.sh" in logs
        # Under the manifest's read-only root and its own heap size, Kafka's JVM has the image's
        # CDS archive mapped (test_container_cds proves class by class that it is used).
        assert "cds: kafka-server-start.sh uses /opt/kafka/cds/server.jsa" in logs
        assert "-XX:SharedArchiveFile=/opt/kafka/cds/server.jsa" in cmdline
        assert "/opt/kafka/cds/server.jsa" in cluster.exec(name, "cat", "/proc/1/maps")


def test_three_voters_elect_a_leader(cluster: Cluster) -> None:
    status = wait_for("a quorum leader", lambda: quorum_status(cluster), timeout=180)
    assert status["ClusterId"] == "59AQxW_URq66JWEb-dMvUA"
    assert json.loads(status["CurrentVoters"]) == [0, 1, 2]
    assert int(status["LeaderId"]) in (0, 1, 2)


FIRST = [f"first-{i}" for i in range(200)]


@pytest.fixture(scope="module")
def written(cluster: Cluster) -> list[str]:
    """Topic ``orders`` (3 partitions, RF 3, min.insync.replicas 2) holding ``FIRST``."""
    wait_for("a quorum leader", lambda: quorum_status(cluster), timeout=180)
    wait_for(
        "topic creation with replication factor 3",
        lambda: (
            "Created topic"
            in cluster.tool(
                "kafka-topics.sh",
                "--bootstrap-server",
                cluster.bootstrap,
                "--create",
                "--if-not-exists",
                "--topic",
                TOPIC,
                "--partitions",
                "3",
                "--replication-factor",
                "3",
                "--config",
                "min.insync.replicas=2",
                check=False,
            )
            or TOPIC
            in cluster.tool(
                "kafka-topics.sh", "--bootstrap-server", cluster.bootstrap, "--list", check=False
            ).split()
        ),
        timeout=180,
    )
    wait_for(
        "all 3 replicas in sync",
        lambda: (isr := partition_isr(cluster)) and all(v == [0, 1, 2] for v in isr.values()),
        timeout=180,
    )
    produce(cluster, FIRST)
    return FIRST


def test_acks_all_writes_on_rf3_are_read_back(cluster: Cluster, written: list[str]) -> None:
    assert sorted(consume_all(cluster, len(written))) == sorted(written)


def test_a_recreated_pod_keeps_its_data_and_does_not_reformat(cluster: Cluster, written: list[str]) -> None:
    """Pod kafka-2 is deleted (SIGTERM) and created again on its own volume, as a
    StatefulSet does; it must skip ``format``, keep meta.properties and its segments."""
    ordinal = 2
    isr = wait_for("the topic's replicas", lambda: partition_isr(cluster), timeout=120)
    assert all(ordinal in v for v in isr.values()), isr
    first_logs = cluster.logs(ordinal)
    assert first_logs.count("format: running kafka-storage.sh") == 1
    before = data_files(cluster, ordinal)
    assert len(before) > 1, "no segment of the topic in kafka-2's volume"

    cluster.delete(ordinal)
    cluster.start(ordinal)
    wait_for(
        "kafka-2 to listen again",
        functools.partial(cluster.listening, ordinal),
        timeout=240,
    )

    logs = cluster.logs(ordinal)
    assert "format: skipped" in logs, logs[-3000:]
    assert "format: running" not in logs, logs[-3000:]
    after = data_files(cluster, ordinal)
    assert after["meta.properties"] == before["meta.properties"]
    for segment, content in before.items():
        assert after[segment].startswith(content), f"{segment} lost data"
    wait_for(
        "kafka-2 back in every ISR",
        lambda: (isr := partition_isr(cluster)) and all(ordinal in v for v in isr.values()),
        timeout=180,
    )
    more = [f"second-{i}" for i in range(100)]
    produce(cluster, more)
    expected = written + more
    assert sorted(consume_all(cluster, len(expected))) == sorted(expected)
    status = wait_for("a quorum leader", lambda: quorum_status(cluster), timeout=120)
    assert json.loads(status["CurrentVoters"]) == [0, 1, 2]
    digest = hashlib.sha256(after["meta.properties"]).hexdigest()
    h.log(f"kafka-2 recreated; meta.properties sha256 {digest[:12]} unchanged")
