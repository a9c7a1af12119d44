"""RACK on real Kafka (3.3.2, the default tier): a 3-node cluster whose pods are in racks a, b
and c, as the rack component makes them from their nodes' zones. One cluster start proves:

- each broker registers its rack: the cluster metadata (Admin describeCluster) that Kafka
  hands every client names racks a, b, c for nodes 0, 1, 2, and an RF=3 topic has one replica
  in each rack;
- a consumer in a follower's rack (client.rack) reads from that follower, not from the leader:
  the leader's answer to the consumer's first fetch names the follower as the preferred read
  replica (RackAwareReplicaSelector, which the entrypoint configures), and the consumer's next
  fetches go to that follower, which serves every message. Both are read from the consumer's
  own DEBUG log (Kafka's Fetcher: "Updating preferred read replica", "Sending ... to broker"):
  the broker's answer as Kafka's client received it, cheaper and less ambiguous than comparing
  per-broker byte counters under replication traffic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest
from kafka_support import DEFAULT_VERSION, VOTERS, Dist, Report, close_labs, kraftlab

pytestmark = pytest.mark.kafka

RACKS = {0: "a", 1: "b", 2: "c"}
TOPIC = "racked"
MESSAGES = 200

#: The consumer's logging: Kafka's Fetcher at DEBUG on stderr (log4j 1 / reload4j, Kafka 3.x).
FETCHER_LOG4J = """\
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=%p %m (%c)%n
log4j.logger.org.apache.kafka.clients.consumer.internals.Fetcher=DEBUG
"""


@pytest.fixture(scope="module")
def racked(dist: Callable[[str], Dist], report: Report) -> Iterator[kraftlab.Lab]:
    """Three combined nodes started with RACK=a, b, c, quorum formed and every broker registered."""
    installation = dist(DEFAULT_VERSION)
    lab = kraftlab.Lab(installation.home, installation.probe_dir)
    try:
        lab.open()
        for i in sorted(VOTERS):
            lab.start(i, env=lab.pod_env(i, RACK=RACKS[i]))
        status = lab.wait_ready(VOTERS, VOTERS, timeout=300)
        report.finding(f"rack cluster ({DEFAULT_VERSION}) ready, leader {status.leader}")
        yield lab
    finally:
        close_labs([lab])


def generated(lab: kraftlab.Lab, ordinal: int) -> dict[str, str]:
    text = (lab.pod_dir(ordinal) / "server.properties").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def consume_with_rack(lab: kraftlab.Lab, client_rack: str, workdir: Path) -> tuple[list[str], str]:
    """kafka-console-consumer.sh of the installation with client.rack set and the Fetcher's DEBUG
    log: (the messages it printed, its log)."""
    config = workdir / "fetcher-log4j.properties"
    config.write_text(FETCHER_LOG4J)
    argv = lab.net.exec_argv(lab.net.client_ns, [
        str(lab.kafka_home / "bin" / "kafka-console-consumer.sh"),
        "--bootstrap-server", lab.bootstrap(),
        "--topic", TOPIC, "--from-beginning",
        "--max-messages", str(MESSAGES), "--timeout-ms", "60000",
        "--consumer-property", f"client.rack={client_rack}",
        "--consumer-property", "client.id=rack-consumer",
    ])
    env = lab.base_env()
    env.update(KAFKA_HEAP_OPTS="-Xmx128m", KAFKA_LOG4J_OPTS=f"-Dlog4j.configuration=file:{config}")
    result = kraftlab.run(argv, timeout=150, check=False, env=env)
    return result.stdout.splitlines(), result.stderr


def test_brokers_register_their_racks_and_replicas_spread(racked: kraftlab.Lab) -> None:
    """Each generated config has broker.rack and the rack-aware selector; the cluster metadata
    names each broker's rack; the RF=3 topic has a replica in racks a, b and c."""
    for i, rack in RACKS.items():
        props = generated(racked, i)
        assert props["broker.rack"] == rack
        assert props["replica.selector.class"] == "org.apache.kafka.common.replica.RackAwareReplicaSelector"
    listed = racked.probe("brokers", racked.bootstrap())
    found = {int(m.group(1)): m.group(2) for m in (re.match(r"broker=(\d+) .* rack=(\S+)$", line)
                                                  for line in listed) if m}
    assert found == RACKS, listed
    racked.create_topic(TOPIC, 1, 3, min_insync_replicas="2")
    (partition,) = racked.wait_isr(TOPIC, VOTERS)
    assert sorted(RACKS[r] for r in partition.replicas) == ["a", "b", "c"]


def test_consumer_fetches_from_the_replica_in_its_rack(
    racked: kraftlab.Lab, report: Report, tmp_path: Path
) -> None:
    """A consumer with client.rack = a follower's rack is told by the leader to read from that
    follower, sends its fetches there, and reads every message."""
    produced = racked.produce(TOPIC, "r", MESSAGES)
    assert len(produced.acked) == MESSAGES, produced
    (partition,) = racked.wait_isr(TOPIC, VOTERS)
    follower = min(partition.replicas - {partition.leader})
    rack = RACKS[follower]
    messages, log = consume_with_rack(racked, rack, tmp_path)
    preferred = re.findall(rf"Updating preferred read replica for partition {TOPIC}-0 to (\d+)", log)
    sent_to = re.findall(rf"Sending \w+ .*{TOPIC}-0.* to broker \S+ \(id: (\d+) rack: (\S+)\)", log)
    report.finding(
        f"client.rack={rack}: leader {partition.leader} (rack {RACKS[partition.leader]}) named "
        f"preferred read replica(s) {sorted(set(preferred))}; fetches of {TOPIC}-0 sent to "
        f"{sorted(set(sent_to))}; {len(messages)} messages read"
    )
    assert preferred, f"no preferred read replica in the consumer's log:\n{log[-3000:]}"
    assert set(preferred) == {str(follower)}
    assert sent_to[-1] == (str(follower), rack), sent_to  # after the leader's answer: the follower
    assert sorted(messages) == sorted(produced.acked)
