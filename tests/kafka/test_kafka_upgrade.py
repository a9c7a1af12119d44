"""The user's journey: a 3-node cluster made on Kafka 3.3.2 (once by our entrypoint, once by the
seed's entrypoint.sh) upgraded by rolling restarts, pod by pod through our entrypoint, to every
newer version of the matrix in turn (3.9.x, then 4.x), under an acks=all producer, each hop
finished by ``kafka-features.sh upgrade --metadata <version>``.

The order is the one Kafka's upgrade notes require (docs "Upgrading a KRaft-based cluster" 3.4+,
"Upgrading Servers to 4.0.x from any version 3.3.x through 3.9.x"): every node on the new binary
first, then metadata.version raised; 4.x starts only on a cluster whose metadata.version is at
least 3.3-IV3 (the minimum 4.x supports). Kafka itself enforces the first rule: the test asks
for the new metadata.version while one node still runs the old binary and checks it is refused.
``--metadata`` (not 4.x's ``--release-version``) is used so that only metadata.version changes:
``--release-version`` would also raise kraft.version and turn the static quorum dynamic
(KAFKA-21426), which the StatefulSet's controller.quorum.voters does not describe.

Asserted: no acknowledged message lost, the cluster id unchanged everywhere, no format (the
entrypoint's "format: skipped", no storage-tool output, meta.properties' cluster.id and node.id
unchanged, the format's bootstrap snapshot neither rewritten nor replaced), every topic readable,
kraft.version still 0 (static quorum) at the end."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Callable

import pytest
from kafka_support import (
    DEFAULT_VERSION,
    MATRIX,
    VOTERS,
    Delivery,
    Dist,
    Report,
    assert_not_formatted,
    bootstrap_file,
    close_labs,
    is_kafka_jvm,
    kraftlab,
    read_meta,
    snapshot,
    start_seed_cluster,
)

pytestmark = pytest.mark.kafka

#: The journey: the default version (3.3.2), then each newer version of the matrix in turn.
HOPS = [v for v in MATRIX if v != DEFAULT_VERSION]
#: The lowest metadata.version Kafka 4.x accepts (upgrade notes of 4.0; ``kafka-storage.sh
#: format --help`` of 4.x: "The minimum is 3.3-IV3").
MIN_METADATA_FOR_4 = "3.3-IV3"


def metadata_key(level: str) -> tuple[int, int, int]:
    """``3.9-IV0`` -> (3, 9, 0): metadata.version levels in their order."""
    match = re.fullmatch(r"(\d+)\.(\d+)-IV(\d+)", level)
    assert match, level
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)))


@pytest.fixture
def lab(dist: Callable[[str], Dist]) -> Iterator[kraftlab.Lab]:
    """A 3-pod lab on the default version whose client (the producer, the consumer) stays on it:
    the applications are not upgraded with the brokers."""
    installation = dist(DEFAULT_VERSION)
    lab = kraftlab.Lab(installation.home, installation.probe_dir, pods=3)
    try:
        yield lab.open()
    finally:
        close_labs([lab])


def roll(
    lab: kraftlab.Lab, target: Dist, producer: kraftlab.Producer, cluster_id: str, report: Report
) -> None:
    """Restart every pod on ``target``'s installation, one at a time, each back in the ISR before
    the next; half way, check that Kafka refuses the new metadata.version."""
    level = kraftlab.versions.feature_level(target.version)
    for i in sorted(VOTERS):
        data_dir = lab.data_dir(i)
        meta_before = read_meta(data_dir)
        checkpoint_before = snapshot(bootstrap_file(data_dir))
        acked_before = producer.acked_count()
        start = time.monotonic()
        code = lab.stop(i)
        assert code in (0, 143), lab.current(i).tail()
        lab.set_home(i, target.home)
        pod_run = lab.start(i)
        status = lab.wait_ready(VOTERS, VOTERS, timeout=180)
        lab.wait_isr("journey", VOTERS, timeout=120)
        report.time(
            f"upgrade to {target.version}: kafka-{i} SIGTERM to back in ISR", time.monotonic() - start
        )
        assert pod_run.kafka_home == target.home
        assert kraftlab.kafka_version(pod_run.kafka_home) == target.version
        assert status.cluster_id == cluster_id
        assert_not_formatted(pod_run)
        meta_after = read_meta(data_dir)
        assert (meta_after["cluster.id"], meta_after["node.id"]) == (meta_before["cluster.id"], str(i))
        if meta_after != meta_before:
            report.finding(
                f"upgrade to {target.version}: kafka-{i}'s Kafka rewrote meta.properties itself: "
                f"added {sorted(set(meta_after) - set(meta_before))}"
            )
        assert snapshot(bootstrap_file(data_dir)) == checkpoint_before
        assert is_kafka_jvm(pod_run.process.pid)

        def acks_resumed(before: int = acked_before) -> bool:
            return producer.acked_count() > before + 10

        kraftlab.wait_until(f"acks after kafka-{i}'s restart on {target.version}", acks_resumed, timeout=90)
        if i == 1:
            # Two nodes on the new binary, one on the old: the new metadata.version is refused.
            before = lab.features(target.home)["metadata.version"].finalized
            refused = lab.upgrade_metadata(target.home, level, check=False)
            assert refused.returncode != 0, refused.stdout + refused.stderr
            assert lab.features(target.home)["metadata.version"].finalized == before
            said = " | ".join((refused.stdout + refused.stderr).strip().splitlines()[-2:])
            report.finding(
                f"upgrade to {target.version}: --metadata {level} with kafka-2 on the old binary "
                f"refused (exit {refused.returncode}): {said[:300]}"
            )


def journey(lab: kraftlab.Lab, dist: Callable[[str], Dist], report: Report, made_by: str) -> None:
    first = dist(DEFAULT_VERSION)
    start = time.monotonic()
    if made_by == "seed":
        status = start_seed_cluster(lab, report)
    else:
        for i in sorted(VOTERS):
            lab.start(i)
        status = lab.wait_ready(VOTERS, VOTERS)
    report.time(f"journey ({made_by}): cluster on {first.version} formed", time.monotonic() - start)
    cluster_id = status.cluster_id
    assert {read_meta(lab.data_dir(i))["cluster.id"] for i in VOTERS} == {cluster_id}
    lab.create_topic("before", 3, 3, min_insync_replicas="2")
    lab.wait_isr("before", VOTERS)
    before = lab.produce("before", "before", 200)
    assert before.failed == []
    lab.create_topic("journey", 3, 3, min_insync_replicas="2")
    lab.wait_isr("journey", VOTERS)
    level = lab.features(first.home)["metadata.version"].finalized
    report.finding(f"journey ({made_by}): metadata.version on {first.version}: {level}")

    producer = lab.start_producer("journey", f"journey-{made_by}", interval_ms=20)
    try:
        kraftlab.wait_until("first acks", lambda: producer.acked_count() >= 20, timeout=60)
        running = first  # the installation every pod runs (its tool reads its own levels)
        for version in HOPS:
            target = dist(version)
            if kraftlab.versions.version_key(version)[0] >= 4:
                current = lab.features(running.home)["metadata.version"].finalized
                assert metadata_key(current) >= metadata_key(MIN_METADATA_FOR_4), current
            roll(lab, target, producer, cluster_id, report)
            # Every node runs the new binary: now metadata.version may be raised.
            assert all(lab.current(i).kafka_home == target.home for i in VOTERS)
            feature_level = kraftlab.versions.feature_level(version)
            upgraded = lab.upgrade_metadata(target.home, feature_level)
            features = lab.features(target.home)
            metadata = features["metadata.version"]
            assert metadata.finalized == metadata.supported_max, (upgraded.stdout, metadata)
            report.finding(
                f"journey ({made_by}): on {version}, `kafka-features.sh upgrade --metadata "
                f"{feature_level}`: metadata.version {level} -> {metadata.finalized}"
            )
            level = metadata.finalized
            running = target
            assert features["kraft.version"].finalized == "0"
            acked = producer.acked_count()

            def acks_go_on(before: int = acked) -> bool:
                return producer.acked_count() > before + 10

            kraftlab.wait_until("acks after the metadata.version upgrade", acks_go_on, timeout=60)
    finally:
        result = producer.stop()
    last = dist(HOPS[-1]) if HOPS else first
    after = lab.produce("after", "after", 100)
    assert after.failed == []
    consumed = {topic: lab.consume(topic) for topic in ("before", "journey", "after")}
    delivery = Delivery.of(result, consumed["journey"])
    report.finding(f"journey ({made_by}) {' -> '.join([first.version, *HOPS])}: {delivery.summary(result)}")
    assert result.failed == []
    assert not delivery.lost
    assert sorted(consumed["before"]) == sorted(before.acked)
    assert sorted(consumed["after"]) == sorted(after.acked)
    assert lab.status().cluster_id == cluster_id
    assert (lab.share_dir / "cluster_id").read_text().strip() == cluster_id
    assert {read_meta(lab.data_dir(i))["cluster.id"] for i in VOTERS} == {cluster_id}
    assert lab.features(last.home)["kraft.version"].finalized == "0"


# The seed-made journey is the long one (8-9 min under load): full tier only (scripts/test --full).
@pytest.mark.parametrize("made_by", ["entrypoint", pytest.param("seed", marks=pytest.mark.slow)])
def test_rolling_upgrade_through_every_version(
    made_by: str, lab: kraftlab.Lab, dist: Callable[[str], Dist], report: Report
) -> None:
    """A 3.3.2 cluster (ours / the seed's) rolled to each newer version: nothing lost, no format."""
    journey(lab, dist, report, made_by)
