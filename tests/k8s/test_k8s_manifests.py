"""k8s/kafka.yaml (and k8s/base) on a real Kubernetes: the StatefulSet starts, serves replicated
writes, survives a deleted pod and a rolling restart under load, and scales brokers past the voters.
Each scenario runs in its own namespace with its own volumes; clients run in a pod of the image."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kraftlab import k8s as kh
from kraftlab.k8s.roll import CLIENT_CPU, roll_under_producer

REPLICAS = 3
VOTER_CLAIMS = [f"data-kafka-{n}" for n in range(REPLICAS)]


def apply_and_wait(ns: kh.Namespace, manifests: Path, how: str, claims: list[str]) -> float:
    """Volumes for ``claims``, the manifest applied as ``how`` (``-f`` kafka.yaml or ``-k`` base),
    the StatefulSet's 3 pods Ready; returns the seconds from apply to Ready."""
    ns.volumes(*claims)
    started = time.monotonic()
    if how == "-k":
        kh.kubectl("apply", "-k", str(manifests / "base"))
    else:
        kh.kubectl("apply", "-f", str(manifests / "kafka.yaml"))
    kh.wait_ready(ns.name, "kafka", REPLICAS)
    return time.monotonic() - started


def secret_cluster_id(manifests: Path) -> str:
    for line in (manifests / "base" / "kafka.yaml").read_text().splitlines():
        if line.strip().startswith("CLUSTER_ID:"):
            return line.split(":", 1)[1].split("#", 1)[0].strip()
    raise AssertionError("no CLUSTER_ID in the manifest")


# Slow tier: -f k8s/kafka.yaml is the same file as the base (a link; tests/manifests renders both
# alike), and the default run applies the base twice already: pulled from the registry
# (test_k8s_registry) and under the external-nodeport component (test_k8s_overlays).
@pytest.mark.parametrize(
    "how", [pytest.param("-k", marks=pytest.mark.slow), pytest.param("-f", marks=pytest.mark.slow)],
    ids=["apply-k-base", "apply-f-kafka-yaml"]
)
def test_replicated_writes(how: str, namespace: kh.Namespace, manifests: Path, image: str,
                           report: kh.Report) -> None:
    """Applied as the README says, 3 pods are Ready and an RF=3, min.insync.replicas=2 topic takes
    acks=all writes that a consumer reads back; every pod carries the Secret's cluster id."""
    ready = apply_and_wait(namespace, manifests, how, VOTER_CLAIMS)
    report.time(f"kubectl apply {how}: 3 pods Ready", ready)
    client = kh.Client(namespace.name, image)
    client.create_topic("replicated", partitions=3, replication_factor=3, min_insync=2)
    described = client.describe_topic("replicated")
    assert "ReplicationFactor: 3" in described, described
    assert "min.insync.replicas=2" in described, described
    produced = client.produce("replicated", 1000, prefix=1)
    assert len(produced.acked) == 1000, produced
    assert produced.failed == 0, produced
    read = client.consume("replicated", expected=1000)
    assert produced.acked <= set(read), sorted(produced.acked - set(read))[:20]
    cluster_id = secret_cluster_id(manifests)
    assert cluster_id != kh.EXAMPLE_CLUSTER_ID
    for n in range(REPLICAS):
        meta = kh.meta_properties(namespace.name, f"kafka-{n}")
        assert meta["cluster.id"] == cluster_id, meta
        assert meta["node.id"] == str(n), meta
    voters = kh.ids(kh.quorum_field(client.quorum(), "CurrentVoters"))
    assert voters == [0, 1, 2]


def test_deleted_pod_returns(namespace: kh.Namespace, manifests: Path, image: str,
                             report: kh.Report) -> None:
    """A deleted pod comes back Ready on its own claim and volume, with the same cluster id in
    meta.properties and the partitions it held before; the data written before is read back."""
    apply_and_wait(namespace, manifests, "-f", VOTER_CLAIMS)
    ns = namespace.name
    client = kh.Client(ns, image)
    client.create_topic("kept", partitions=3, replication_factor=3, min_insync=2)
    produced = client.produce("kept", 500, prefix=2)
    assert len(produced.acked) == 500, produced
    before_uid = kh.pod_uid(ns, "kafka-1")
    before_meta = kh.meta_properties(ns, "kafka-1")
    before_volume = kh.kubectl("-n", ns, "get", "pvc", "data-kafka-1", "-o",
                               "jsonpath={.spec.volumeName}").stdout
    before_dirs = set(kh.exec_in(ns, "kafka-1", "ls", kh.DATA_DIR).stdout.split())
    assert {"kept-0", "kept-1", "kept-2"} <= before_dirs, before_dirs

    started = time.monotonic()
    kh.kubectl("-n", ns, "delete", "pod", "kafka-1", "--wait=false")
    deadline = started + 300
    while not (kh.pod_ready(ns, "kafka-1") and kh.pod_uid(ns, "kafka-1") != before_uid):
        assert time.monotonic() < deadline, "kafka-1 not back Ready within 300 s"
        time.sleep(0.5)
    report.time("deleted pod kafka-1 back Ready", time.monotonic() - started)

    assert kh.meta_properties(ns, "kafka-1")["cluster.id"] == before_meta["cluster.id"]
    assert before_meta["cluster.id"] == secret_cluster_id(manifests)
    assert kh.kubectl("-n", ns, "get", "pvc", "data-kafka-1", "-o",
                      "jsonpath={.spec.volumeName}").stdout == before_volume == f"{ns}-data-kafka-1"
    assert before_dirs <= set(kh.exec_in(ns, "kafka-1", "ls", kh.DATA_DIR).stdout.split())
    read = client.consume("kept", expected=500)
    assert produced.acked <= set(read), sorted(produced.acked - set(read))[:20]


def test_rolling_restart_under_producer(namespace: kh.Namespace, manifests: Path, image: str,
                                        report: kh.Report) -> None:
    """``kubectl rollout restart statefulset/kafka`` while an idempotent acks=all producer with the
    client's default retries runs (RF=3, min.insync.replicas=2): the readiness probe (in every
    ISR) holds the roll until each broker has caught up, and every JVM looks a restarted pod's new
    address up within 1 s (the brokers' by the entrypoint, the client's as docs/operations.md
    advises), so no acknowledged message is lost, no send fails, no broker refuses a write with
    NotEnoughReplicas, and the producer never goes more than 5 s without an acknowledgement, during
    the roll or after ``rollout status``."""
    apply_and_wait(namespace, manifests, "-f", VOTER_CLAIMS)
    roll = roll_under_producer(namespace.name, kh.Client(namespace.name, image, cpu=CLIENT_CPU), REPLICAS)
    produced = roll.produced
    report.time("rollout restart statefulset/kafka (3 pods)", roll.seconds)
    report.figure(f"rolling restart under a producer (100 msg/s, acks=all, idempotent): {roll.summary()}")
    assert produced.acked, produced
    assert not roll.lost, f"{len(roll.lost)} acknowledged values not read back, e.g. {sorted(roll.lost)[:20]}"
    assert produced.failed == 0, produced
    assert roll.refusals == {}, f"brokers refused writes with NotEnoughReplicas: {roll.refusals}"
    # What is left is leader movement (controlled shutdown): 0-2 s in our rolls. Windows of 9-33 s
    # were JVMs connecting to a restarted pod's old address (bench R5 rolls a client with the
    # JDK's 30 s name cache beside this one).
    assert produced.longest_gap <= 5, f"{produced.longest_gap:.1f}s without an acknowledgement"
    assert roll.after_status <= 5, f"{roll.after_status:.1f}s without an ack after rollout status"


def test_scale_brokers_past_voters(namespace: kh.Namespace, manifests: Path, image: str,
                                   report: kh.Report) -> None:
    """``kubectl scale --replicas=5``: kafka-3 and kafka-4 join as brokers only (the voters stay
    0..2, CONTROLLER_REPLICAS) and serve a topic placed on them; scaled back to 3 the quorum is
    unchanged and writes go on."""
    claims = [*VOTER_CLAIMS, "data-kafka-3", "data-kafka-4"]
    apply_and_wait(namespace, manifests, "-f", claims)
    ns = namespace.name
    client = kh.Client(ns, image)

    started = time.monotonic()
    kh.kubectl("-n", ns, "scale", "statefulset/kafka", "--replicas=5")
    kh.wait_ready(ns, "kafka", 5)
    report.time("scale 3 -> 5: kafka-3, kafka-4 Ready", time.monotonic() - started)
    for n in (3, 4):
        config = kh.exec_in(ns, f"kafka-{n}", "cat", "/var/lib/kafka/config/server.properties").stdout
        assert "process.roles=broker\n" in config, config
        assert kh.meta_properties(ns, f"kafka-{n}")["node.id"] == str(n)
    status = client.quorum()
    assert kh.ids(kh.quorum_field(status, "CurrentVoters")) == [0, 1, 2], status
    deadline = time.monotonic() + 60
    while not {3, 4} <= set(kh.ids(kh.quorum_field(status, "CurrentObservers"))):
        assert time.monotonic() < deadline, status
        time.sleep(2)
        status = client.quorum()
    client.create_topic("on-new-brokers", assignment="3:4:0", min_insync=2)
    produced = client.produce("on-new-brokers", 300, prefix=4)
    assert len(produced.acked) == 300, produced
    assert produced.acked <= set(client.consume("on-new-brokers", expected=300))

    started = time.monotonic()
    kh.kubectl("-n", ns, "scale", "statefulset/kafka", "--replicas=3")
    kh.wait_ready(ns, "kafka", REPLICAS)
    deadline = time.monotonic() + 300
    while kh.kubectl("-n", ns, "get", "pod", "kafka-3", "kafka-4", "--ignore-not-found",
                     "-o", "name").stdout.strip():
        assert time.monotonic() < deadline, "kafka-3/kafka-4 still there 300 s after scaling to 3"
        time.sleep(1)
    report.time("scale 5 -> 3: kafka-3, kafka-4 gone", time.monotonic() - started)
    status = client.quorum()
    assert kh.ids(kh.quorum_field(status, "CurrentVoters")) == [0, 1, 2], status
    client.create_topic("after-scale-down", partitions=3, replication_factor=3, min_insync=2)
    produced = client.produce("after-scale-down", 300, prefix=5)
    assert len(produced.acked) == 300, produced
    # Read without a consumer group: partitions of __consumer_offsets that were placed on kafka-3
    # and kafka-4 (the reads above ran with 5 brokers) keep 1 in-sync replica after they leave
    # without a reassignment, below min.insync.replicas=2, and a group consumer read nothing.
    assert produced.acked <= set(client.consume_partitions("after-scale-down", 3))
