"""Scenarios 5 and 6: the seed article's own entrypoint.sh in the same harness, with the same
distribution (only its /opt/kafka path substituted, the Kafka bin/ first on PATH).

5 is a measurement: what the seed does on a parallel start (the cluster-id race) and on a
restart is recorded and printed in the run's summary; only what the harness itself guarantees
is asserted. Pods whose container exited are started again, as the kubelet would.

6 is the migration: the cluster the seed formed and wrote to is restarted pod by pod through
our entrypoint (KAFKA_HOME = the distribution, whose template the seed never touched: the seed
rewrote its own per-pod copy, as it rewrites the copy inside its container; the same SHARE_DIR
and $SHARE_DIR/<id> layout): every acknowledged message is still there, the cluster id is the
seed's, nothing is re-formatted."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest
from kafka_support import (
    VOTERS,
    FormatEvidence,
    LabFactory,
    Report,
    assert_not_formatted,
    is_kafka_jvm,
    kraftlab,
    read_meta,
    seed_log_lines,
    start_seed_cluster,
)

# The slow tier: the seed's script is measured by the bench; the seed-made upgrade is slow too
pytestmark = [pytest.mark.kafka, pytest.mark.slow]

TOPIC = "seed-topic"


@dataclass
class SeedCluster:
    lab: kraftlab.Lab
    formed: bool = False
    acked: list[str] = field(default_factory=list)
    cluster_id: str = ""


@pytest.fixture(scope="module")
def seed(new_lab: LabFactory) -> SeedCluster:
    return SeedCluster(new_lab())


def form_with_seed(seed: SeedCluster, report: Report) -> None:
    """The seed's parallel start (kafka_support.start_seed_cluster), then a topic written with
    acks=all."""
    if seed.formed:
        return
    lab = seed.lab
    status = start_seed_cluster(lab, report)
    seed.cluster_id = status.cluster_id
    lab.create_topic(TOPIC, 3, 3, min_insync_replicas="2")
    lab.wait_isr(TOPIC, VOTERS)
    produced = lab.produce(TOPIC, "seed", 300)
    assert produced.failed == []
    seed.acked += produced.acked
    seed.formed = True


def test_seed_entrypoint_reference(seed: SeedCluster, report: Report) -> None:
    lab = seed.lab
    # What the harness guarantees: the seed ran unmodified except for its /opt/kafka path, each
    # pod with its own KAFKA_HOME copy, and kafka-0 is the only pod that writes cluster_id.
    original = kraftlab.SEED_ENTRYPOINT_DEFAULT.read_text()
    for i in sorted(VOTERS):
        script = lab.seed(i).script().read_text()
        assert "/opt/kafka" not in script
        assert script == original.replace("/opt/kafka", str(lab.seed(i).home()))
    form_with_seed(seed, report)
    shared_id = (lab.share_dir / "cluster_id").read_text().strip()
    assert read_meta(lab.data_dir(0))["cluster.id"] == shared_id == seed.cluster_id
    for i in sorted(VOTERS):
        config = (lab.seed(i).home() / "config" / "kraft" / "server.properties").read_text()
        assert f"node.id={i}\n" in config  # the seed rewrote its pod's template in place

    # Restart: SIGTERM kafka-1 and start it again with the seed's script.
    evidence = FormatEvidence.of(lab.data_dir(1))
    lab.stop(1)
    start = time.monotonic()
    pod_run = lab.start_seed(1)
    status = lab.wait_ready(VOTERS, VOTERS)
    report.time("seed: restart of kafka-1 to registered", time.monotonic() - start)
    output = pod_run.stderr_text() + pod_run.stdout_text()
    report.finding(
        f"seed, restart of kafka-1: format re-run: {seed_log_lines(output)}; "
        f"storage files rewritten: {FormatEvidence.of(lab.data_dir(1)) != evidence}; "
        f"Kafka started: {lab.kafka_started(1)}; "
        f"cluster id unchanged: {status.cluster_id == seed.cluster_id}"
    )


def test_migration_from_seed(seed: SeedCluster, report: Report) -> None:
    form_with_seed(seed, report)
    lab = seed.lab
    lab.wait_isr(TOPIC, VOTERS)
    for i in (0, 1, 2):
        evidence = FormatEvidence.of(lab.data_dir(i))
        lab.stop(i)
        start = time.monotonic()
        pod_run = lab.start(i)  # our entrypoint, same SHARE_DIR, pristine template
        status = lab.wait_ready(VOTERS, VOTERS)
        lab.wait_isr(TOPIC, VOTERS)
        report.time(
            f"migration: kafka-{i} seed -> entrypoint, start to back in ISR", time.monotonic() - start
        )
        assert status.cluster_id == seed.cluster_id
        assert_not_formatted(pod_run)
        assert FormatEvidence.of(lab.data_dir(i)) == evidence
        assert is_kafka_jvm(pod_run.process.pid)
        assert f"cluster id {seed.cluster_id}" in pod_run.stderr_text()
    after = lab.produce(TOPIC, "migrated", 100)
    assert after.failed == []
    consumed = set(lab.consume(TOPIC))
    assert set(seed.acked) <= consumed
    assert set(after.acked) <= consumed
    assert (lab.share_dir / "cluster_id").read_text().strip() == seed.cluster_id
