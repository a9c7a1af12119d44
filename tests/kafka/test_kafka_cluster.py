"""Scenarios 1 (parallel cold start), 2 (rolling restart under acks=all), 3 (refusals on real
storage) and 4 (broker-only scale-out) on one 3-node cluster started through the entrypoint, on
every version of the matrix (test ids ``[kafka-<version>]``: ``-k kafka-4.4.0`` selects one).

The cluster is shared by the module's tests of one version, in this order: each one leaves it
healthy (all pods running, ISR full) for the next, and each checks its own preconditions. The
cluster of a version is closed before the next version's starts."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Callable

import pytest
from kafka_support import (
    DEFAULT_THEN_SLOW,
    VOTERS,
    Delivery,
    Dist,
    FormatEvidence,
    Report,
    assert_not_formatted,
    check_new_cluster,
    close_labs,
    is_kafka_jvm,
    kraftlab,
    random_cluster_id,
    read_meta,
    version_id,
)

pytestmark = pytest.mark.kafka


@dataclass
class Formed:
    lab: kraftlab.Lab
    status: kraftlab.Status
    version: str


# The middle version of the matrix runs in the full tier only (scripts/test --full): its hop is
# covered by the upgrade journey and its dynamic quorum by test_kafka_dynamic, which CI runs.
@pytest.fixture(
    scope="module",
    params=DEFAULT_THEN_SLOW,
    ids=version_id,
)
def formed(request: pytest.FixtureRequest, dist: Callable[[str], Dist], report: Report) -> Iterator[Formed]:
    version: str = request.param
    installation = dist(version)
    lab = kraftlab.Lab(installation.home, installation.probe_dir)
    try:
        lab.open()
        start = time.monotonic()
        for i in sorted(VOTERS):  # Popen returns at once: the three pods start together
            lab.start(i)
        status = lab.wait_ready(VOTERS, VOTERS)
        label = f"{version}: cold start, 3 pods in parallel (start to quorum + 3 brokers)"
        report.time(label, time.monotonic() - start)
        yield Formed(lab, status, version)
    finally:
        close_labs([lab])


def test_cold_start_parallel(formed: Formed) -> None:
    check_new_cluster(formed.lab, formed.status, "cold-parallel")
    # Exactly one pod created $SHARE_DIR/cluster_id, whichever won the race; it says so.
    created = re.compile(r"cluster id .*\bcreated\b", re.IGNORECASE)
    creators = [i for i in VOTERS if created.search(formed.lab.current(i).stderr_text())]
    assert len(creators) == 1, creators


def test_rolling_restart_under_acks_all_producer(formed: Formed, report: Report) -> None:
    lab = formed.lab
    topic = "rolling"
    cluster_id = lab.status().cluster_id
    lab.create_topic(topic, 3, 3, min_insync_replicas="2")
    lab.wait_isr(topic, VOTERS)
    producer = lab.start_producer(topic, "rolling", interval_ms=20)
    try:
        kraftlab.wait_until("first acks", lambda: producer.acked_count() >= 20, timeout=60)
        for i in (0, 1, 2):
            evidence = FormatEvidence.of(lab.data_dir(i))
            acked_before = producer.acked_count()
            start = time.monotonic()
            code = lab.stop(i)
            stopped = time.monotonic() - start
            # Kafka shuts down on SIGTERM; the JVM reports 143 (128 + SIGTERM) or 0.
            assert code in (0, 143), lab.current(i).tail()
            pod_run = lab.start(i)
            status = lab.wait_ready(VOTERS, VOTERS)
            lab.wait_isr(topic, VOTERS)
            report.time(f"{formed.version}: restart kafka-{i}: SIGTERM to exit", stopped)
            report.time(
                f"{formed.version}: restart kafka-{i}: start to registered and back in ISR",
                time.monotonic() - start - stopped,
            )
            assert status.cluster_id == cluster_id
            assert_not_formatted(pod_run)
            assert FormatEvidence.of(lab.data_dir(i)) == evidence
            assert is_kafka_jvm(pod_run.process.pid)

            def acks_resumed(before: int = acked_before) -> bool:
                return producer.acked_count() > before + 10

            kraftlab.wait_until("acks after the restart", acks_resumed, timeout=60)
    finally:
        result = producer.stop()
    consumed = lab.consume(topic)
    delivery = Delivery.of(result, consumed)
    report.finding(f"{formed.version}: rolling restart: {delivery.summary(result)}")
    assert result.failed == []
    assert not delivery.lost
    assert lab.status().cluster_id == cluster_id
    assert (lab.share_dir / "cluster_id").read_text().strip() == cluster_id


def test_refusals_leave_storage_untouched(formed: Formed) -> None:
    lab = formed.lab
    victim = 2
    data_dir = lab.data_dir(victim)
    assert (data_dir / "__cluster_metadata-0" / "quorum-state").is_file()
    lab.stop(victim)
    before = kraftlab.tree_digest(data_dir)
    shared_before = (lab.share_dir / "cluster_id").read_bytes()
    other_id = random_cluster_id()
    stored_id = read_meta(data_dir)["cluster.id"]
    cases = {
        # the data dir was formatted for another cluster than the one the pod is configured for
        "other cluster id": lab.pod_env(victim, SHARE_DIR=None, CLUSTER_ID=other_id, DATA_DIR=str(data_dir)),
        # another node (kafka-1) pointed at kafka-2's formatted dir
        "other node id": lab.pod_env(victim, HOSTNAME="kafka-1", DATA_DIR=str(data_dir)),
        # the StatefulSet scaled to 5 replicas: another static voter set than the stored quorum
        "REPLICAS=5": lab.pod_env(victim, replicas=5),
    }
    messages = {}
    for name, env in cases.items():
        pod_run = lab.start(victim, env=env)
        code = lab.wait_exit(pod_run, timeout=60)
        messages[name] = pod_run.stderr_text()
        assert code == 3, f"{name}: exit {code}\n{pod_run.tail()}"
        assert pod_run.stdout_text() == "", f"{name}: Kafka started\n{pod_run.tail()}"
        assert kraftlab.tree_digest(data_dir) == before, name
        assert (lab.share_dir / "cluster_id").read_bytes() == shared_before, name
    assert other_id in messages["other cluster id"]
    assert stored_id in messages["other cluster id"]
    assert "CONTROLLER_REPLICAS" in messages["REPLICAS=5"]
    # The untouched storage still starts normally.
    pod_run = lab.start(victim)
    lab.wait_ready(VOTERS, VOTERS)
    assert_not_formatted(pod_run)


def test_broker_only_scale_out(formed: Formed, report: Report) -> None:
    lab = formed.lab
    before = lab.status()
    start = time.monotonic()
    scaled_env = {"CONTROLLER_REPLICAS": "3"}
    pod_run = lab.start(3, env=lab.pod_env(3, replicas=4, **scaled_env))
    status = lab.wait_ready(VOTERS | {3}, VOTERS)
    report.time(f"{formed.version}: scale-out: kafka-3 start to registered broker", time.monotonic() - start)
    assert status.voters == before.voters == VOTERS
    assert status.observers == {3}
    assert status.cluster_id == before.cluster_id
    assert "process.roles=broker\n" in (lab.pod_dir(3) / "server.properties").read_text()
    assert is_kafka_jvm(pod_run.process.pid)
    assert read_meta(lab.data_dir(3))["node.id"] == "3"

    topic = "scaled"
    lab.create_topic(topic, 8, 2, min_insync_replicas="1")
    parts = lab.wait_isr(topic, set())
    assert any(3 in p.replicas for p in parts), parts
    assert any(p.leader == 3 for p in parts), parts
    produced = lab.produce(topic, topic, 200)
    assert produced.failed == []
    assert sorted(lab.consume(topic)) == sorted(produced.acked)

    # The voters take the StatefulSet's new environment on their next restart unchanged.
    lab.stop(0)
    pod_run = lab.start(0, env=lab.pod_env(0, replicas=4, **scaled_env))
    status = lab.wait_ready(VOTERS | {3}, VOTERS)
    assert_not_formatted(pod_run)
    assert status.voters == VOTERS
