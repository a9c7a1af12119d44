"""k8s/overlays/dedicated-controllers run as 3 + 3 containers of the image on Kafka 4.4.0:
StatefulSet ``kafka-controller`` (controller-only pods, node ids 0-2) and StatefulSet ``kafka``
(broker-only pods, node ids 100-102), all started at once, forming a quorum and serving an
``acks=all`` write on a replication-factor-3 topic.

The overlay is rendered by kustomize exactly as ``tests/manifests`` renders it (its fixtures
are imported); each pod is emulated by ``k8s_emulation`` like the base manifest's pods in
``test_container_cluster`` (whose cluster helpers are imported too). The image is
``docker/Dockerfile`` built with the build arguments it has (``KAFKA_VERSION=4.4.0``, the
tarball packed from scripts/kafka-dist 4.4.0 and served on loopback, its SHA-512, and the Java 17
base that Kafka 4 needs). Only the image replaces the overlay's ``image:``; every other field of
the rendered pods is used as rendered."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import k8s_emulation as k8s
import pytest
from manifests.support import Rendered, kustomize, rendered, tree  # noqa: F401  (fixtures)
from test_container_cluster import (
    TOPIC,
    Cluster,
    consume_all,
    create_claim_volume,
    partition_isr,
    produce,
    quorum_status,
    wait_for,
)

from kraftlab import container as h
from kraftlab import fetch_dist

pytestmark = pytest.mark.container

KAFKA_VERSION = "4.4.0"
IMAGE_TAG = f"localhost/kraft-entrypoint/kafka-kraft:test-kafka-{KAFKA_VERSION}"
OVERLAY = "dedicated-controllers"
CONTROLLER_STS, BROKER_STS = "kafka-controller", "kafka"
CONTROLLERS = [0, 1, 2]
BROKERS = [100, 101, 102]  # node ids: BROKER_ID_OFFSET (100) + ordinal
#: k8s/README.md's check of the voters, run in kafka-controller-0.
README_CHECK = ("kafka-metadata-quorum.sh", "--bootstrap-controller", "localhost:9093", "describe")


@pytest.fixture(scope="session")
def image_4x(base_image_17: str) -> str:
    """docker/Dockerfile with KAFKA_VERSION=4.4.0 on the Java 17 base, from a tarball packed from
    scripts/kafka-dist 4.4.0 (laid out like the official one) on a loopback file server."""
    started = time.monotonic()
    tarball, digest = h.pack_tarball(
        fetch_dist(KAFKA_VERSION), h.CACHE / f"tarball-{KAFKA_VERSION}", f"kafka_2.13-{KAFKA_VERSION}"
    )
    with h.file_server(tarball.parent) as base:
        built = h.build_image(
            IMAGE_TAG,
            kafka_url=f"{base}/{tarball.name}",
            kafka_sha512=digest,
            build_args={"KAFKA_VERSION": KAFKA_VERSION, "BASE_IMAGE": base_image_17},
            check=False,
        )
    output = built.stdout + built.stderr
    assert built.returncode == 0, output[-4000:]
    h.log(f"image {IMAGE_TAG} built ({time.monotonic() - started:.1f}s)")
    return IMAGE_TAG


class DedicatedCluster(Cluster):
    """``Cluster`` of test_container_cluster over two StatefulSets, pods keyed by node id."""

    @property
    def bootstrap(self) -> str:
        """The client Service, which selects the brokers only."""
        broker = self.pods[BROKERS[0]]
        service = next(a for a in broker.aliases if a.startswith("kafka-client."))
        return f"{service}:{broker.ports['broker']}"

    def listening(self, ordinal: int) -> bool:
        """Running, and its probe's port open: the broker port, or a controller's only port."""
        self.assert_running(ordinal)
        ports = self.pods[ordinal].ports
        port = ports.get("broker", ports.get("controller"))
        proc = h.run(
            ["podman", "exec", self.container(ordinal), "bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"],
            timeout=30,
            check=False,
        )
        return proc.returncode == 0


@dataclass
class Started:
    cluster: DedicatedCluster
    seconds: float


@pytest.fixture(scope="module")
def dedicated(image_4x: str, run_id: str, rendered: dict[str, Rendered]) -> Iterator[Started]:  # noqa: F811
    docs = rendered[OVERLAY].docs
    prefix = f"{run_id}-dc"
    c = DedicatedCluster(prefix=prefix, image=image_4x, docs=docs, network=f"{prefix}-net")
    created_network = False
    try:
        h.run(["podman", "network", "create", c.network], timeout=60)
        created_network = True
        for sts, slots, offset in ((CONTROLLER_STS, CONTROLLERS, 0), (BROKER_STS, BROKERS, 100)):
            group = k8s.fs_group(docs, sts)
            for slot in slots:
                c.pods[slot] = k8s.pod(docs, sts, slot - offset, volume_prefix=prefix)
                for volume, _ in c.pods[slot].volumes:
                    create_claim_volume(volume, group)
                    c.volumes.add(volume)
        started = time.monotonic()
        for slot in [*CONTROLLERS, *BROKERS]:  # both StatefulSets, podManagementPolicy: Parallel
            c.start(slot)
        c.client = f"{prefix}-client"
        h.run(
            ["podman", "run", "--detach", *h.PODMAN_RUN_OPTS, "--name", c.client, "--network", c.network,
             "--entrypoint", "sleep", image_4x, "3600"],
            timeout=120,
        )
        for slot in [*CONTROLLERS, *BROKERS]:
            wait_for(f"{c.container(slot)}'s probe port", functools.partial(c.listening, slot), timeout=300)
        yield Started(c, time.monotonic() - started)
    finally:
        names = [c.container(slot) for slot in c.pods] + ([c.client] if c.client else [])
        for name in names:
            h.run(["podman", "rm", "--force", "--time", "0", name], timeout=120, check=False)
        for volume in sorted(c.volumes):
            h.run(["podman", "volume", "rm", "--force", volume], timeout=60, check=False)
        if created_network:
            h.run(["podman", "network", "rm", "--force", c.network], timeout=60, check=False)


def test_both_statefulsets_form_one_quorum(dedicated: Started) -> None:
    """Each container runs Kafka 4.4.0 as PID 1 with its pod's identity (node id, roles, the 4.x
    template); the controllers are the voters 0-2 and the brokers 100-102 their observers, as
    Kafka's tool says through the brokers and, as k8s/README.md runs it, inside kafka-controller-0."""
    c = dedicated.cluster
    h.log(f"6 pods listening {dedicated.seconds:.1f}s after start")
    for slot, pod in c.pods.items():
        name = c.container(slot)
        assert c.exec(name, "hostname").strip() == pod.name
        cmdline = c.exec(name, "cat", "/proc/1/cmdline").replace("\0", " ")
        assert "kafka.Kafka" in cmdline, cmdline
        assert "/var/lib/kafka/config/server.properties" in cmdline, cmdline
        config = c.exec(name, "cat", "/var/lib/kafka/config/server.properties").splitlines()
        assert f"node.id={slot}" in config
        assert f"process.roles={'controller' if slot in CONTROLLERS else 'broker'}" in config
        logs = c.logs(slot)
        assert f"Kafka version: {KAFKA_VERSION}" in logs, logs[-3000:]
        assert config[0] == "#Generated by kraft-entrypoint from /opt/kafka/config/server.properties"
        assert logs.count("format: running kafka-storage.sh") == 1, logs[-3000:]
    status = wait_for("a quorum leader", lambda: quorum_status(c), timeout=180)
    assert [v["id"] for v in json.loads(status["CurrentVoters"])] == CONTROLLERS
    assert sorted(v["id"] for v in json.loads(status["CurrentObservers"])) == BROKERS
    assert int(status["LeaderId"]) in CONTROLLERS
    # k8s/README.md's check, run where it says: in kafka-controller-0, through its own port.
    inside = c.exec(c.container(0), *README_CHECK, "--status")
    voters = next(line.split(":", 1)[1] for line in inside.splitlines() if line.startswith("CurrentVoters:"))
    assert [v["id"] for v in json.loads(voters)] == CONTROLLERS, inside


def test_acks_all_write_on_rf3_is_read_back(dedicated: Started) -> None:
    """A topic with replication factor 3 on the three brokers (min.insync.replicas 2): 200
    messages written with acks=all (each send acknowledged) are all read back."""
    c = dedicated.cluster
    wait_for("a quorum leader", lambda: quorum_status(c), timeout=180)
    c.tool(
        "kafka-topics.sh", "--bootstrap-server", c.bootstrap, "--create", "--if-not-exists", "--topic", TOPIC,
        "--partitions", "3", "--replication-factor", "3", "--config", "min.insync.replicas=2",
    )
    wait_for(
        "all 3 replicas in sync",
        lambda: (isr := partition_isr(c)) and all(v == BROKERS for v in isr.values()),
        timeout=180,
    )
    messages = [f"dedicated-{i}" for i in range(200)]
    produce(c, messages)
    assert sorted(consume_all(c, len(messages))) == sorted(messages)


def test_data_of_each_pod_is_on_its_own_claim(dedicated: Started) -> None:
    """Each pod's node id is in meta.properties on its own volume claim (data-<pod>)."""
    c = dedicated.cluster
    for slot, pod in c.pods.items():
        data_dir = Path(pod.env["DATA_DIR"])
        volume, mount = next((v, Path(m)) for v, m in pod.volumes if data_dir.is_relative_to(m))
        assert volume.endswith(f"-data-{pod.name}"), volume
        meta = (c.volume_path(slot) / data_dir.relative_to(mount) / "meta.properties").read_text()
        assert f"node.id={slot}" in meta.splitlines(), meta
