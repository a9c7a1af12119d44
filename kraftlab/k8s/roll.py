"""``kubectl rollout restart`` of a Kafka StatefulSet under a continuous producer, as the roll test
(tests/k8s) and the bench's R5 measure it: an idempotent ``acks=all`` VerifiableProducer with the
client's default retries, the brokers' logs followed for ``NotEnoughReplicas`` refusals, and what
the producer saw during the roll and after ``rollout status`` returned."""

from __future__ import annotations

import time
from dataclasses import dataclass

from kraftlab.k8s.clients import BrokerLogs, Client, ProducerRun
from kraftlab.k8s.cluster import kubectl, wait_ready

#: The rolling producer's CPU request: a broker's of k8s/base, so that the pod measuring the roll is
#: not starved by the brokers' JVMs on a 2-core node (see Client's ``cpu``).
CLIENT_CPU = "250m"


@dataclass(frozen=True)
class Roll:
    seconds: float  # rollout restart to rollout status returning
    produced: ProducerRun
    lost: frozenset[str]  # acknowledged but not read back
    duplicates: int
    refusals: dict[str, int]  # NotEnoughReplicas lines per broker pod
    after_status: float  # longest window without an acknowledgement after rollout status returned

    def summary(self) -> str:
        return (f"roll {self.seconds:.0f}s, sent {self.produced.sent}, acked {len(self.produced.acked)}, "
                f"failed {self.produced.failed}, lost {len(self.lost)}, duplicates read {self.duplicates}, "
                f"NotEnoughReplicas in the brokers' logs {sum(self.refusals.values())}, "
                f"longest window without an ack {self.produced.longest_gap:.1f}s, "
                f"after rollout status {self.after_status:.1f}s")


def roll_under_producer(ns: str, client: Client, replicas: int, statefulset: str = "kafka",
                        topic: str = "rolled", prefix: int = 3, throughput: int = 100) -> Roll:
    """An RF=3, min.insync.replicas=2 topic, the producer at ``throughput`` msg/s until 300
    acknowledgements, the roll, 300 more acknowledgements after it, then every value read back."""
    client.create_topic(topic, partitions=3, replication_factor=3, min_insync=2)
    client.start_producer(topic, prefix=prefix, throughput=throughput)
    _wait_acked(client, prefix, 300, "the producer got no 300 acknowledgements in 120 s")
    with BrokerLogs(ns, [f"{statefulset}-{n}" for n in range(replicas)]) as logs:
        started = time.monotonic()
        kubectl("-n", ns, "rollout", "restart", f"statefulset/{statefulset}")
        kubectl("-n", ns, "rollout", "status", f"statefulset/{statefulset}", "--timeout=900s", timeout=960)
        rolled_at = time.time()
        seconds = time.monotonic() - started
        wait_ready(ns, statefulset, replicas)
        _wait_acked(client, prefix, client.producer_acked(prefix) + 300,
                    "the producer did not resume after the roll")
    produced = client.stop_producer(prefix)
    read = client.consume(topic, expected=produced.sent, timeout_ms=30000)
    return Roll(seconds, produced, frozenset(produced.acked - set(read)), len(read) - len(set(read)),
                logs.count("NotEnoughReplicas"), produced.longest_gap_after(rolled_at))


def _wait_acked(client: Client, prefix: int, count: int, failure: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while client.producer_acked(prefix) < count:
        if time.monotonic() > deadline:
            raise AssertionError(failure)
        time.sleep(1)
