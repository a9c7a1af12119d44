"""Dedicated controllers (k8s/overlays/dedicated-controllers) on real Kafka 3.3.2 and 4.4.0:
StatefulSet ``kafka-controller`` (3 controller-only pods, node ids 0-2) and StatefulSet ``kafka``
(3 broker-only pods, node ids 100-102), every pod started through the entrypoint at the same time,
then a rolling restart of the brokers and then of the controllers under an ``acks=all`` producer.

One cluster per version (``[kafka-<version>]``), shared by the module's two tests in order: the
parallel start, then the roll on the cluster it formed. What the second adds: the roll of both
StatefulSets (a broker's restart moves partition leaders; a controller's restart moves the quorum
leader) with no acknowledged message lost and no pod formatted again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from kafka_support import (
    BOOTSTRAP_FILES,
    Delivery,
    Dist,
    Report,
    assert_formatted_once,
    assert_not_formatted,
    close_labs,
    is_kafka_jvm,
    kraftlab,
    read_meta,
    snapshot,
    version_id,
)

from kraftlab.quorum import QuorumLab

pytestmark = pytest.mark.kafka

# The slow tier: CI proves dedicated controllers with the image on a real Kubernetes
# (tests/k8s/test_k8s_overlays.py)
VERSIONS = [pytest.param("3.3.2", marks=pytest.mark.slow), pytest.param("4.4.0", marks=pytest.mark.slow)]
CONTROLLERS = {0, 1, 2}
BROKERS = {100, 101, 102}


@dataclass
class Formed:
    lab: QuorumLab
    status: kraftlab.Status
    version: str


@pytest.fixture(scope="module", params=VERSIONS, ids=version_id)
def formed(request: pytest.FixtureRequest, dist: Callable[[str], Dist], report: Report) -> Iterator[Formed]:
    version: str = request.param
    installation = dist(version)
    lab = QuorumLab(installation.home, installation.probe_dir, quorum="static")
    try:
        lab.open()
        start = time.monotonic()
        lab.start_pods(sorted(CONTROLLERS | BROKERS))  # both StatefulSets at once
        status = lab.wait_formed(CONTROLLERS, timeout=240)
        report.time(
            f"{version}: dedicated, 3 controllers + 3 brokers in parallel to quorum + brokers",
            time.monotonic() - start,
        )
        yield Formed(lab, status, version)
    finally:
        close_labs([lab])


def config_of(lab: QuorumLab, slot: int) -> dict[str, str]:
    text = (lab.pod_dir(slot) / "server.properties").read_text()
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    return {key: value.replace("\\:", ":").replace("\\=", "=") for key, value in pairs}


def format_evidence(data_dir: Path) -> dict[str, tuple[int, bytes]]:
    """What a format writes, as inode and content: meta.properties, and the bootstrap snapshot
    where there is one (Kafka 4.x writes none on a broker-only node)."""
    names = ["meta.properties", *(name for name in BOOTSTRAP_FILES if (data_dir / name).is_file())]
    return {name: snapshot(data_dir / name) for name in names}


def test_parallel_start_forms_dedicated_quorum(formed: Formed) -> None:
    """Controllers 0-2 are the voters and run no broker; brokers 100-102 are the only brokers and
    observers of the quorum (Kafka's own describe --status and --replication); each pod was
    formatted once, with its own node id, and is the Kafka JVM itself."""
    lab, status = formed.lab, formed.status
    assert status.voters == CONTROLLERS
    assert status.brokers == BROKERS  # controllers register no broker
    described = lab.describe_status()
    assert set(described.voters) == CONTROLLERS
    assert described.observers == BROKERS
    assert described.leader in CONTROLLERS
    assert described.cluster_id == status.cluster_id == (lab.share_dir / "cluster_id").read_text().strip()
    replication = {row.node_id: row.status for row in lab.describe_replication()}
    assert {n for n, s in replication.items() if s in ("Leader", "Follower")} == CONTROLLERS
    assert {n for n, s in replication.items() if s == "Observer"} == BROKERS
    for slot in sorted(CONTROLLERS | BROKERS):
        config = config_of(lab, slot)
        controller = slot in CONTROLLERS
        assert config["process.roles"] == ("controller" if controller else "broker")
        assert config["node.id"] == str(slot)
        assert config["controller.quorum.voters"] == ",".join(
            f"{i}@{lab.topology.controller_endpoint(i)}" for i in sorted(CONTROLLERS)
        )
        assert config["listeners"] == ("CONTROLLER://:9093" if controller else "PLAINTEXT://:9092")
        meta = read_meta(lab.data_dir(slot))
        assert meta["node.id"] == str(slot)
        assert meta["cluster.id"] == status.cluster_id
        assert_formatted_once(lab.current(slot))
        assert is_kafka_jvm(lab.current(slot).process.pid)


def test_rolling_restart_brokers_then_controllers_under_acks_all(formed: Formed, report: Report) -> None:
    """Every broker, then every controller, restarted one at a time (each back before the next:
    a broker re-registered with the ISR full, a controller a caught-up voter) while an acks=all
    producer writes to an RF=3, min.insync.replicas=2 topic: no write fails, every acknowledged
    message is read back, no pod formats again, the cluster id never changes."""
    lab = formed.lab
    topic = "dedicated-rolling"
    cluster_id = formed.status.cluster_id
    lab.create_topic(topic, 3, 3, min_insync_replicas="2")
    lab.wait_isr(topic, BROKERS)
    producer = lab.start_producer(topic, "dedicated", interval_ms=20)
    leaders = set()
    try:
        kraftlab.wait_until("first acks", lambda: producer.acked_count() >= 20, timeout=90)
        for slot in [*sorted(BROKERS), *sorted(CONTROLLERS)]:
            evidence = format_evidence(lab.data_dir(slot))
            acked_before = producer.acked_count()
            start = time.monotonic()
            code = lab.stop(slot)
            stopped = time.monotonic() - start
            assert code in (0, 143), lab.current(slot).tail()
            pod_run = lab.start(slot)
            if slot in BROKERS:  # every partition has a replica here: a full ISR means it is back
                lab.check_alive([slot])
                lab.wait_isr(topic, BROKERS)
            else:
                described, _ = lab.wait_voters(CONTROLLERS)
                leaders.add(described.leader)
            pod = lab.topology.pod(slot)
            report.time(f"{formed.version}: dedicated, restart {pod}: SIGTERM to exit", stopped)
            report.time(
                f"{formed.version}: dedicated, restart {pod}: start to back in",
                time.monotonic() - start - stopped,
            )
            assert_not_formatted(pod_run)
            assert format_evidence(lab.data_dir(slot)) == evidence
            assert is_kafka_jvm(pod_run.process.pid)

            def acks_resumed(before: int = acked_before) -> bool:
                return producer.acked_count() > before + 10

            kraftlab.wait_until(f"acks after restarting {pod}", acks_resumed, timeout=90)
    finally:
        result = producer.stop()
    consumed = lab.consume(topic)
    delivery = Delivery.of(result, consumed)
    report.finding(
        f"{formed.version}: dedicated rolling restart (brokers, then controllers): "
        f"{delivery.summary(result)}, "
        f"quorum leaders seen after the controller restarts {sorted(leaders)}"
    )
    assert result.failed == []
    assert not delivery.lost
    status = lab.status()
    assert status.cluster_id == cluster_id
    assert status.brokers == BROKERS
    assert status.voters == CONTROLLERS
