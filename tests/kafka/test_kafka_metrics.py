"""METRICS=prometheus on real Kafka: the JMX exporter agent of the installation (scripts/kafka-dist
puts it and docker/metrics/kafka-metrics.yml under KAFKA_HOME/metrics, as the image does) serves
/metrics on port 9404 with broker, request, log, replica-manager, controller and raft metrics under
the rules' names, whose values follow the load; a node without the agent has no port 9404; the
Grafana dashboard asks only for names a real node serves.

One 3-node cluster per version (``[kafka-3.3.2]``, ``[kafka-4.4.0]``; 3.9.2 in the full tier),
started with the agent on every pod; the last test restarts one pod without it. The module's
tests run in order on that cluster.

The agent is switched on as a user does it, METRICS=prometheus in the pod's environment: the
entrypoint hands it to the server JVM only.
"""

from __future__ import annotations

import json
import math
import re
import socket
import time
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import pytest
from kafka_support import (
    DEFAULT_THEN_SLOW,
    VOTERS,
    Dist,
    Report,
    close_labs,
    is_kafka_jvm,
    kraftlab,
    version_id,
)

from kraft_entrypoint import metrics

pytestmark = pytest.mark.kafka

PORT = metrics.DEFAULT_PORT
DASHBOARD = kraftlab.REPO / "k8s" / "components" / "metrics" / "grafana-dashboard.json"
TOPIC = "metered"
MESSAGES = 400

#: What an operator reads first, and what the dashboard must therefore show: one name per figure.
FIRST_FIGURES = {
    "kafka_server_replicamanager_underreplicatedpartitions",
    "kafka_controller_kafkacontroller_offlinepartitionscount",
    "kafka_server_replicamanager_isrshrinks_total",
    "kafka_server_replicamanager_isrexpands_total",
    "kafka_network_requestmetrics_totaltimems",
    "kafka_raft_current_leader",
    "kafka_raft_current_epoch",
    "kafka_raft_commit_latency_avg_ms",
    "kafka_server_brokertopicmetrics_bytesin_total",
    "kafka_server_brokertopicmetrics_bytesout_total",
}

#: Names every node of a combined (controller+broker) cluster serves, on 3.3.2 and 4.4.0 alike, as
#: soon as it has started. (kafka_network_requestmetrics_requests_total is not among them: Kafka makes
#: a request type's series at its first request; test_values_follow_the_load checks it.)
REQUIRED = FIRST_FIGURES | {
    "kafka_server_brokertopicmetrics_messagesin_total",
    "kafka_server_brokertopicmetrics_replicationbytesin_total",
    "kafka_server_replicamanager_underminisrpartitioncount",
    "kafka_server_replicamanager_offlinereplicacount",
    "kafka_server_replicamanager_partitioncount",
    "kafka_server_replicamanager_leadercount",
    "kafka_server_kafkaserver_brokerstate",
    "kafka_log_logflushstats_logflushes_total",
    "kafka_log_log_size",
    "kafka_controller_kafkacontroller_activecontrollercount",
    "kafka_controller_kafkacontroller_globalpartitioncount",
    "kafka_raft_high_watermark",
    "kafka_raft_log_end_offset",
    "kafka_raft_current_state",
    "kafka_raft_commit_latency_max_ms",
    "jvm_memory_used_bytes",
}


# --- reading /metrics ----------------------------------------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    def label(self, key: str) -> str:
        return dict(self.labels).get(key, "")


@dataclass(frozen=True)
class Scrape:
    """One GET /metrics: its samples, size and how long it took."""

    samples: list[Sample]
    size: int
    seconds: float
    content_type: str

    def names(self) -> set[str]:
        return {s.name for s in self.samples}

    def values(self, name: str, **labels: str) -> list[float]:
        """The values of the samples of ``name`` that carry ``labels``."""
        return [s.value for s in self.samples
                if s.name == name and all(s.label(k) == v for k, v in labels.items())]

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples of ``name`` carrying ``labels`` (NaN counts as 0)."""
        found = self.values(name, **labels)
        assert found, f"{name}{labels or ''} not served"
        return sum(v for v in found if not math.isnan(v))

    def one(self, name: str, **labels: str) -> float:
        found = self.values(name, **labels)
        assert len(found) == 1, f"{name}{labels or ''}: {found}"
        return found[0]


def parse_exposition(text: str) -> list[Sample]:
    """Prometheus text format 0.0.4 into samples (comments skipped); a line that is neither fails."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        samples.append(Sample(name, tuple(_LABEL.findall(labels or "")), float(value)))
    return samples


def scrape(lab: kraftlab.Lab, ordinal: int, timeout: float = 30) -> Scrape:
    """GET http://<pod address>:9404/metrics from the host (the bridge reaches every pod)."""
    url = f"http://{lab.net.address(ordinal)}:{PORT}/metrics"
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as response:  # our own pod
        body = response.read()
        content_type = response.headers.get("Content-Type", "")
    seconds = time.monotonic() - started
    return Scrape(parse_exposition(body.decode()), len(body), seconds, content_type)


def port_open(lab: kraftlab.Lab, ordinal: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(5)
        return sock.connect_ex((lab.net.address(ordinal), PORT)) == 0


def jvm_argv(lab: kraftlab.Lab, ordinal: int) -> list[str]:
    """The pod's process, which is the Kafka server JVM (the entrypoint exec'd it)."""
    pid = lab.current(ordinal).process.pid
    assert is_kafka_jvm(pid), pid
    return [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]


# --- the dashboard's PromQL ----------------------------------------------------------------------

_PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless",
    "inf", "nan",
}


def promql_metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (functions, keywords, labels and strings dropped)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings (label values, label_values args)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges, $__rate_interval
    # grouping labels
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", text):
        word, call = match.group(1), match.group(2)
        if call or word.lower() in _PROMQL_WORDS:
            continue
        names.add(word)
    return names


def dashboard_exprs(dashboard: dict[str, object]) -> list[str]:
    """Every PromQL expression of the dashboard: panel targets (rows' nested panels too) and the
    template variables' queries (``label_values(metric, label)`` reads ``metric``)."""
    exprs: list[str] = []

    def panels(items: Iterable[object]) -> Iterator[dict[str, object]]:
        for item in items:
            assert isinstance(item, dict)
            yield item
            yield from panels(item.get("panels", []))  # type: ignore[arg-type]

    for panel in panels(dashboard["panels"]):  # type: ignore[arg-type]
        for target in panel.get("targets", []):  # type: ignore[attr-defined]
            exprs.append(target["expr"])
    for variable in dashboard["templating"]["list"]:  # type: ignore[index]
        if variable["type"] == "query":
            query = variable["query"]
            text = query["query"] if isinstance(query, dict) else query
            exprs.append(re.sub(r"^label_values\((.*),\s*\w+\)$", r"\1", text))
    return exprs


# --- the cluster -----------------------------------------------------------------------------------


def metered_env(lab: kraftlab.Lab, ordinal: int) -> dict[str, str]:
    """Pod ``ordinal``'s environment with the agent on, as a user turns it on: METRICS=prometheus."""
    return lab.pod_env(ordinal, METRICS="prometheus", METRICS_PORT=str(PORT))


@dataclass
class Metered:
    lab: kraftlab.Lab
    version: str
    status: kraftlab.Status
    #: Every metric name a metered node served in this module (the dashboard test reads it).
    served: set[str] = field(default_factory=set)

    def scrape(self, ordinal: int) -> Scrape:
        result = scrape(self.lab, ordinal)
        self.served |= result.names()
        return result


@pytest.fixture(
    scope="module",
    params=DEFAULT_THEN_SLOW,
    ids=version_id,
)
def metered(request: pytest.FixtureRequest, dist: Callable[[str], Dist], report: Report) -> Iterator[Metered]:
    version: str = request.param
    installation = dist(version)
    lab = kraftlab.Lab(installation.home, installation.probe_dir)
    try:
        lab.open()
        start = time.monotonic()
        for i in sorted(VOTERS):
            lab.start(i, env=metered_env(lab, i))
        status = lab.wait_ready(VOTERS, VOTERS)
        report.time(f"{version}: cold start, 3 pods with the metrics agent", time.monotonic() - start)
        yield Metered(lab, version, status)
    finally:
        close_labs([lab])


def test_every_node_serves_broker_and_raft_metrics(metered: Metered, report: Report) -> None:
    """Each agent pod serves /metrics (text) on 9404 with the rules' names, one raft leader and epoch."""
    scrapes = {i: metered.scrape(i) for i in sorted(VOTERS)}
    leader = metered.status.leader
    epochs = set()
    for i, result in scrapes.items():
        assert result.content_type.startswith("text/plain"), result.content_type
        missing = REQUIRED - result.names()
        assert not missing, f"kafka-{i} does not serve {sorted(missing)}"
        kafka_names = {n for n in result.names() if n.startswith("kafka_")}
        assert all(n == n.lower() for n in kafka_names), sorted(n for n in kafka_names if n != n.lower())
        assert result.one("kafka_raft_current_leader") == leader
        epochs.add(result.one("kafka_raft_current_epoch"))
        assert result.one("kafka_server_kafkaserver_brokerstate") == 3  # RUNNING
        state = [s.label("state") for s in result.samples if s.name == "kafka_raft_current_state"]
        assert state == (["leader"] if i == leader else ["follower"]), (i, state)
        expected_active = 1 if i == leader else 0
        assert result.one("kafka_controller_kafkacontroller_activecontrollercount") == expected_active
        assert result.one("kafka_server_replicamanager_underreplicatedpartitions") == 0
    assert len(epochs) == 1, epochs
    assert min(epochs) >= 1, epochs
    sizes = sorted(r.size for r in scrapes.values())
    times = sorted(r.seconds * 1000 for r in scrapes.values())
    report.finding(
        f"{metered.version}: /metrics {sizes[0] / 1024:.0f}-{sizes[-1] / 1024:.0f} KiB, "
        f"{len(scrapes[leader].samples)} samples on the leader, "
        f"first scrape {times[0]:.0f}-{times[-1]:.0f} ms"
    )


def test_values_follow_the_load(metered: Metered, report: Report) -> None:
    """Producing and consuming moves bytes/messages in and out, request counts and the raft high watermark."""
    lab = metered.lab
    before = {i: metered.scrape(i) for i in sorted(VOTERS)}
    lab.create_topic(TOPIC, 1, 3, min_insync_replicas="2")
    lab.wait_isr(TOPIC, VOTERS)
    result = lab.produce(TOPIC, "m", MESSAGES)
    assert len(result.acked) == MESSAGES, result.done_line
    consumed = lab.consume(TOPIC)
    assert len(consumed) >= MESSAGES
    (partition,) = lab.describe_topic(TOPIC)
    after = {i: metered.scrape(i) for i in sorted(VOTERS)}

    def delta(name: str, ordinals: Iterable[int], **labels: str) -> float:
        """How much ``name`` grew on ``ordinals`` (a series Kafka had not made yet counts as 0)."""
        return sum(sum(after[i].values(name, **labels)) - sum(before[i].values(name, **labels))
                   for i in ordinals)

    # The topic's leader counts its messages in (once each: the probe's producer is idempotent
    # enough for this - a retried batch that was appended would count twice, so >=) and the bytes.
    # (A follower has no such series: Kafka makes a topic's meters where they are first used.)
    by_node = {i: sum(after[i].values("kafka_server_topic_messagesin_total", topic=TOPIC)) for i in VOTERS}
    assert by_node[partition.leader] >= MESSAGES, by_node
    assert sum(by_node.values()) == by_node[partition.leader], by_node
    assert delta("kafka_server_brokertopicmetrics_messagesin_total", VOTERS) >= MESSAGES
    assert delta("kafka_server_brokertopicmetrics_bytesin_total", [partition.leader]) > MESSAGES
    assert delta("kafka_server_brokertopicmetrics_bytesout_total", [partition.leader]) > MESSAGES
    followers = VOTERS - {partition.leader}
    for i in followers:
        assert delta("kafka_server_brokertopicmetrics_replicationbytesin_total", [i]) > MESSAGES, i
    for request in ("Produce", "FetchFollower"):
        assert delta("kafka_network_requestmetrics_requests_total", [partition.leader], request=request) >= 1
    assert after[partition.leader].total("kafka_log_log_size", topic=TOPIC) > MESSAGES
    # Creating the topic wrote metadata records: every node's raft high watermark moved on.
    for i in VOTERS:
        assert after[i].one("kafka_raft_high_watermark") > before[i].one("kafka_raft_high_watermark"), i
    # The produce latency is there with its percentiles (values depend on the machine).
    p99 = after[partition.leader].one(
        "kafka_network_requestmetrics_totaltimems", request="Produce", quantile="0.99"
    )
    assert p99 >= 0
    report.finding(
        f"{metered.version}: after {MESSAGES} acks=all messages: leader kafka-{partition.leader} "
        f"bytes in +{delta('kafka_server_brokertopicmetrics_bytesin_total', [partition.leader]):.0f}, "
        f"produce p99 {p99:.1f} ms, raft high watermark "
        f"{before[partition.leader].one('kafka_raft_high_watermark'):.0f} -> "
        f"{after[partition.leader].one('kafka_raft_high_watermark'):.0f}"
    )


def test_a_node_without_the_agent_has_no_port_and_the_others_see_it_leave(
    metered: Metered, report: Report
) -> None:
    """A pod restarted without METRICS has no agent and nothing on 9404; meanwhile the others
    report partitions under-replicated, and none once it is back in the ISR."""
    lab = metered.lab
    (partition,) = lab.describe_topic(TOPIC)
    plain = max(VOTERS - {partition.leader, metered.status.leader} or VOTERS - {partition.leader})
    watchers = sorted(VOTERS - {plain})
    expands = "kafka_server_replicamanager_isrexpands_total"
    under = "kafka_server_replicamanager_underreplicatedpartitions"
    expands_before = sum(metered.scrape(i).total(expands) for i in watchers)
    assert port_open(lab, plain)
    agents = [a for a in jvm_argv(lab, plain) if a.startswith("-javaagent:")]
    assert len(agents) == 1, agents
    assert "jmx_prometheus_javaagent.jar=9404:" in agents[0]

    lab.stop(plain)

    def under_replicated() -> Optional[float]:
        value = sum(metered.scrape(i).total(under) for i in watchers)
        return value or None

    peak = kraftlab.wait_until("under-replicated partitions reported", under_replicated, 90)
    assert isinstance(peak, float)
    assert peak >= 1

    lab.start(plain)  # lab.pod_env(plain): no KAFKA_OPTS, no METRICS
    lab.wait_ready(VOTERS, VOTERS)
    lab.wait_isr(TOPIC, VOTERS)
    assert not port_open(lab, plain)
    assert not [a for a in jvm_argv(lab, plain) if a.startswith("-javaagent")]

    def healed() -> bool:
        return all(metered.scrape(i).total(under) == 0 for i in watchers)

    assert kraftlab.wait_until("nothing under-replicated", healed, 90)
    # Not asserted: whether the leader counts an ISR expand for the returning follower varies
    # from run to run on both 3.3.2 and 4.4.0 (seen +1 and +0 on each; the controller takes a
    # cleanly stopped broker out of the ISR, which counts no shrink). Under-replicated partitions
    # are the dependable signal; the dashboard's ISR panel says so.
    grown = sum(metered.scrape(i).total(expands) for i in watchers) - expands_before
    report.finding(f"{metered.version}: kafka-{plain} restarted: under-replicated partitions 0 -> "
                   f"{peak:.0f} -> 0 on the others, their IsrExpands +{grown:.0f}")


def test_the_dashboard_reads_only_names_a_node_serves(metered: Metered) -> None:
    """Every metric name in the Grafana dashboard's PromQL was served by a real node of this version."""
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = dashboard_exprs(dashboard)
    used = set().union(*(promql_metric_names(e) for e in exprs))
    assert not FIRST_FIGURES - used, sorted(FIRST_FIGURES - used)
    assert metered.served, "no scrape recorded"
    unknown = used - metered.served
    assert not unknown, f"the dashboard reads names no {metered.version} node served: {sorted(unknown)}"
