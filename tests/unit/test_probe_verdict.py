"""The probes' pure decisions: whom to ask (from a generated config) and each verdict (SPEC: Probes)."""

from __future__ import annotations

from typing import Optional

import pytest

from kraft_entrypoint.probe_verdict import (
    BrokerView,
    Endpoint,
    PartitionState,
    ProbeConfigError,
    QuorumView,
    ReplicaState,
    broker_verdict,
    parse_timeout,
    quorum_verdict,
    target_of,
)

FQDN = "kafka-1.kafka-svc.kafka-kraft.svc.cluster.local"
COMBINED = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.voters": "0@kafka-0.s:9093,1@kafka-1.s:9093,2@kafka-2.s:9093",
    "listeners": "PLAINTEXT://:9092,CONTROLLER://:9093",
    "inter.broker.listener.name": "PLAINTEXT",
    "advertised.listeners": f"PLAINTEXT://{FQDN}:9092",
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
}
SECURE_BROKER = {
    "process.roles": "broker",
    "node.id": "101",
    "listeners": "BROKER://:9092,EXTERNAL://:9094",
    "inter.broker.listener.name": "BROKER",
    "advertised.listeners": "EXTERNAL://ext.example:31094,BROKER://kafka-b-1.s:9092",
    "listener.security.protocol.map": "CONTROLLER:SSL,BROKER:SASL_SSL,EXTERNAL:SASL_SSL",
    "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
    "controller.listener.names": "CONTROLLER",
}
CONTROLLER_ONLY = {
    "process.roles": "controller",
    "node.id": "1",
    "controller.quorum.voters": "0@c-0.s:9093,1@c-1.s:9093,2@c-2.s:9093",
    "listeners": "CONTROLLER://:9093",
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT",
}
DYNAMIC_CONTROLLER = {
    "process.roles": "controller",
    "node.id": "3",
    "controller.quorum.bootstrap.servers": "c-0.s:9093,c-1.s:9093",
    "listeners": "CONTROLLER://:9093",
    "advertised.listeners": "CONTROLLER://c-3.s:9093",
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "CONTROLLER:SSL",
}


def test_combined_node_probes_its_advertised_broker_listener() -> None:
    """A broker+controller node is probed as a broker, at the address clients dial."""
    target = target_of(COMBINED)
    assert (target.node_id, target.controller_only) == (1, False)
    assert target.endpoint == Endpoint(FQDN, 9092, "PLAINTEXT", "PLAINTEXT")
    assert target.quorum == ()


def test_secure_broker_uses_the_inter_broker_listener_and_mechanism() -> None:
    """With an EXTERNAL listener too, the probe takes the inter-broker one (SASL_SSL, its mechanism)."""
    target = target_of(SECURE_BROKER)
    assert target.endpoint == Endpoint("kafka-b-1.s", 9092, "SASL_SSL", "BROKER")
    assert target.endpoint.tls
    assert target.endpoint.sasl
    assert target.sasl_mechanism == "SCRAM-SHA-512"


def test_controller_only_pod_knows_its_voter_address_and_the_others() -> None:
    """A controller-only pod asks its own controller listener (its voter entry), then the others."""
    target = target_of(CONTROLLER_ONLY)
    assert target.controller_only
    assert target.endpoint == Endpoint("c-1.s", 9093, "SASL_PLAINTEXT", "CONTROLLER")
    assert [e.address for e in target.quorum] == ["c-0.s:9093", "c-2.s:9093"]
    assert target.sasl_mechanism == "PLAIN"


def test_dynamic_quorum_controller_uses_advertised_and_bootstrap_servers() -> None:
    """Dynamic quorum: own advertised controller listener; the bootstrap servers to find the leader."""
    target = target_of(DYNAMIC_CONTROLLER)
    assert target.endpoint == Endpoint("c-3.s", 9093, "SSL", "CONTROLLER")
    assert [e.address for e in target.quorum] == ["c-0.s:9093", "c-1.s:9093"]


def test_unadvertised_listener_falls_back_to_the_bound_port_on_localhost() -> None:
    """A listener that is only bound (no advertised entry) is asked on localhost."""
    config = {**COMBINED, "advertised.listeners": ""}
    assert target_of(config).endpoint == Endpoint("localhost", 9092, "PLAINTEXT", "PLAINTEXT")


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        pytest.param({**COMBINED, "node.id": ""}, "node.id", id="no-node-id"),
        pytest.param({**COMBINED, "process.roles": ""}, "process.roles", id="no-roles"),
        pytest.param({**COMBINED, "inter.broker.listener.name": "NOPE"}, "NOPE", id="unknown-listener"),
        pytest.param(
            {**SECURE_BROKER, "listener.security.protocol.map": ""}, "protocol.map", id="no-protocol"
        ),
        pytest.param({**CONTROLLER_ONLY, "controller.listener.names": ""}, "controller.listener", id="no-c"),
    ],
)
def test_configs_that_say_not_whom_to_ask_are_refused(config: dict[str, str], reason: str) -> None:
    """A config without what the probe needs fails with a reason naming the property."""
    with pytest.raises(ProbeConfigError, match=reason):
        target_of(config)


def _p(topic: str, partition: int, replicas: tuple[int, ...], isr: tuple[int, ...]) -> PartitionState:
    return PartitionState(topic, partition, replicas, isr)


IN_SYNC = BrokerView(frozenset({0, 1, 2}), (_p("a", 0, (0, 1, 2), (0, 1, 2)), _p("b", 0, (0, 2), (0,))))
BEHIND = BrokerView(
    frozenset({0, 1, 2}),
    (*tuple(_p("t", n, (0, 1, 2), (0, 2)) for n in range(5)), _p("u", 0, (1,), (1,))),
)
UNREGISTERED = BrokerView(frozenset({0, 2}), (_p("a", 0, (0, 1, 2), (0, 2)),))


@pytest.mark.parametrize(
    ("kind", "view", "passed", "words"),
    [
        pytest.param("startup", IN_SYNC, True, "registered", id="startup-registered"),
        pytest.param("startup", BEHIND, True, "registered", id="startup-ignores-isr"),
        pytest.param("startup", UNREGISTERED, False, "not a live broker", id="startup-unregistered"),
        pytest.param("ready", IN_SYNC, True, "ISR of all its 1 partitions", id="ready-in-sync"),
        pytest.param("ready", UNREGISTERED, False, "fenced", id="ready-fenced-or-unregistered"),
        pytest.param("ready", BEHIND, False, "out of the ISR of 5 of its 6", id="ready-behind"),
        pytest.param("ready", BrokerView(frozenset({1})), True, "all its 0", id="ready-no-partitions"),
    ],
)
def test_broker_verdicts(kind: str, view: BrokerView, passed: bool, words: str) -> None:
    """startup needs the broker registered and unfenced; ready also needs it in every ISR it belongs to."""
    verdict = broker_verdict(kind, 1, view)
    assert verdict.passed is passed
    assert words in verdict.line
    assert "\n" not in verdict.line
    assert verdict.line.startswith(kind + ":")


def test_behind_line_names_a_few_partitions_and_counts_the_rest() -> None:
    """The one line stays short: three partitions named, the rest counted."""
    line = broker_verdict("ready", 1, BEHIND).line
    assert "t-0, t-1, t-2 and 2 more" in line


QUORUM = QuorumView(
    leader_id=0,
    high_watermark=500,
    voters=(ReplicaState(0, 510), ReplicaState(1, 500), ReplicaState(2, 420)),
    observers=(ReplicaState(3, 505), ReplicaState(101, 500)),
)


@pytest.mark.parametrize(
    ("kind", "node", "passed", "words"),
    [
        pytest.param("startup", 1, True, "as a voter", id="startup-voter"),
        pytest.param("startup", 3, True, "as a observer", id="startup-observer"),
        pytest.param("startup", 7, False, "not in the quorum", id="startup-absent"),
        pytest.param("ready", 0, True, "leads", id="ready-leader"),
        pytest.param("ready", 1, True, "caught up", id="ready-caught-up"),
        pytest.param("ready", 2, False, "80 records behind", id="ready-lagging"),
        pytest.param("ready", 3, False, "observer, not a voter", id="ready-observer"),
        pytest.param("ready", 7, False, "not in the quorum", id="ready-absent"),
    ],
)
def test_quorum_verdicts(kind: str, node: int, passed: bool, words: str) -> None:
    """A controller-only pod: startup in the quorum (voter or observer); ready a caught-up voter."""
    verdict = quorum_verdict(kind, node, QUORUM)
    assert verdict.passed is passed
    assert words in verdict.line
    assert "\n" not in verdict.line


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param(None, 5.0, id="default"),
        pytest.param("", 5.0, id="empty-is-default"),
        pytest.param(" 2.5 ", 2.5, id="fraction"),
        pytest.param("600", 600.0, id="max"),
    ],
)
def test_timeout_values(text: str, seconds: float) -> None:
    """PROBE_TIMEOUT: seconds, default 5."""
    assert parse_timeout(text) == seconds


@pytest.mark.parametrize("text", ["0", "-1", "601", "nan", "inf", "5s", "x"])
def test_bad_timeouts_are_refused(text: str) -> None:
    """A timeout that is not a positive number of seconds up to 600 is refused, naming the variable."""
    with pytest.raises(ProbeConfigError, match="PROBE_TIMEOUT"):
        parse_timeout(text)


CURRENT = QuorumView(
    0, 900, (ReplicaState(0, 900), ReplicaState(1, 900), ReplicaState(2, 900)), (ReplicaState(3, 900),)
)
STALE = QuorumView(0, 900, (ReplicaState(0, 900), ReplicaState(2, 900)), (ReplicaState(1, 870),))
NOT_FETCHING = QuorumView(0, 900, (ReplicaState(0, 900),), ())


@pytest.mark.parametrize(
    ("quorum", "passed", "words"),
    [
        pytest.param(CURRENT, True, "ISR of all", id="metadata-current"),
        pytest.param(STALE, False, "30 records behind", id="metadata-stale"),
        pytest.param(NOT_FETCHING, False, "not fetching the metadata log", id="not-in-quorum"),
        pytest.param(None, True, "ISR of all", id="no-quorum-view"),
    ],
)
def test_ready_trusts_the_brokers_metadata_only_when_current(
    quorum: Optional[QuorumView], passed: bool, words: str
) -> None:
    """A broker whose copy of the metadata trails the quorum (cut off, just resumed) is not ready,
    whatever its stale copy says about the ISR."""
    verdict = broker_verdict("ready", 1, IN_SYNC, quorum)
    assert verdict.passed is passed
    assert words in verdict.line


def test_startup_ignores_the_quorum() -> None:
    """startup is registration only: a lagging metadata copy does not hold a start back."""
    assert broker_verdict("startup", 1, IN_SYNC, STALE).passed
