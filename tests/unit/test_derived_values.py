"""Every derived value of SPEC.md, computed by the pure modules for various pods."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Optional

import pytest

from kraft_entrypoint import properties
from kraft_entrypoint.kafka_versions import REFERENCE_VERSION, capabilities
from kraft_entrypoint.plan import make_plan, resolve_files
from kraft_entrypoint.settings import parse_settings

FQDN = "{sts}-{i}.{svc}.{ns}.svc.{domain}"


def _voters(sts: str, svc: str, ns: str, count: int, port: int, domain: str = "cluster.local") -> str:
    return ",".join(
        f"{i}@{FQDN.format(sts=sts, i=i, svc=svc, ns=ns, domain=domain)}:{port}" for i in range(count)
    )


CASES: list[tuple[str, dict[str, str], dict[str, str]]] = [
    (
        "seed-variables-kafka-0",
        {
            "HOSTNAME": "kafka-0",
            "REPLICAS": "3",
            "SERVICE": "kafka-svc",
            "NAMESPACE": "kafka-kraft",
            "SHARE_DIR": "/mnt/kafka",
        },
        {
            "node.id": "0",
            "process.roles": "broker,controller",
            "controller.quorum.voters": "0@kafka-0.kafka-svc.kafka-kraft.svc.cluster.local:9093,"
            "1@kafka-1.kafka-svc.kafka-kraft.svc.cluster.local:9093,"
            "2@kafka-2.kafka-svc.kafka-kraft.svc.cluster.local:9093",
            "listeners": "PLAINTEXT://:9092,CONTROLLER://:9093",
            "advertised.listeners": "PLAINTEXT://kafka-0.kafka-svc.kafka-kraft.svc.cluster.local:9092",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": "/mnt/kafka/0",
        },
    ),
    (
        "seed-bug-my-kafka-2",
        {
            "HOSTNAME": "my-kafka-2",
            "REPLICAS": "3",
            "SERVICE": "my-svc",
            "NAMESPACE": "prod",
            "SHARE_DIR": "/share",
        },
        {
            "node.id": "2",
            "process.roles": "broker,controller",
            "controller.quorum.voters": _voters("my-kafka", "my-svc", "prod", 3, 9093),
            "advertised.listeners": "PLAINTEXT://my-kafka-2.my-svc.prod.svc.cluster.local:9092",
            "log.dirs": "/share/2",
        },
    ),
    (
        "other-domain-and-ports",
        {
            "HOSTNAME": "kafka-1",
            "REPLICAS": "2",
            "SERVICE": "kafka",
            "NAMESPACE": "ns",
            "CLUSTER_DOMAIN": "k8s.example.org",
            "BROKER_PORT": "19092",
            "CONTROLLER_PORT": "29093",
            "SHARE_DIR": "/s",
        },
        {
            "node.id": "1",
            "controller.quorum.voters": "0@kafka-0.kafka.ns.svc.k8s.example.org:29093,"
            "1@kafka-1.kafka.ns.svc.k8s.example.org:29093",
            "listeners": "PLAINTEXT://:19092,CONTROLLER://:29093",
            "advertised.listeners": "PLAINTEXT://kafka-1.kafka.ns.svc.k8s.example.org:19092",
        },
    ),
    (
        "broker-only-past-controller-replicas",
        {
            "HOSTNAME": "kafka-4",
            "REPLICAS": "5",
            "CONTROLLER_REPLICAS": "3",
            "SERVICE": "kafka-svc",
            "NAMESPACE": "kafka-kraft",
            "SHARE_DIR": "/mnt/kafka",
        },
        {
            "node.id": "4",
            "process.roles": "broker",
            "listeners": "PLAINTEXT://:9092",
            "controller.quorum.voters": _voters("kafka", "kafka-svc", "kafka-kraft", 3, 9093),
            "advertised.listeners": "PLAINTEXT://kafka-4.kafka-svc.kafka-kraft.svc.cluster.local:9092",
            "controller.listener.names": "CONTROLLER",
            "log.dirs": "/mnt/kafka/4",
        },
    ),
    (
        "voter-below-controller-replicas",
        {
            "HOSTNAME": "kafka-2",
            "REPLICAS": "5",
            "CONTROLLER_REPLICAS": "3",
            "SERVICE": "kafka-svc",
            "NAMESPACE": "kafka-kraft",
            "SHARE_DIR": "/mnt/kafka",
        },
        {
            "node.id": "2",
            "process.roles": "broker,controller",
            "listeners": "PLAINTEXT://:9092,CONTROLLER://:9093",
        },
    ),
    (
        "controller-replicas-without-replicas",
        {
            "HOSTNAME": "kafka-17",
            "CONTROLLER_REPLICAS": "1",
            "SERVICE": "s",
            "NAMESPACE": "n",
            "SHARE_DIR": "/d",
        },
        {
            "node.id": "17",
            "process.roles": "broker",
            "controller.quorum.voters": _voters("kafka", "s", "n", 1, 9093),
            "log.dirs": "/d/17",
        },
    ),
    (
        "fqdn-hostname",
        {
            "HOSTNAME": "kafka-1.kafka-svc.kafka-kraft.svc.cluster.local",
            "REPLICAS": "3",
            "SERVICE": "kafka-svc",
            "NAMESPACE": "kafka-kraft",
            "SHARE_DIR": "/mnt/kafka",
        },
        {
            "node.id": "1",
            "advertised.listeners": "PLAINTEXT://kafka-1.kafka-svc.kafka-kraft.svc.cluster.local:9092",
            "log.dirs": "/mnt/kafka/1",
        },
    ),
    (
        "dashes-and-digits-in-statefulset-name",
        {"HOSTNAME": "a-1-b-12", "REPLICAS": "13", "SERVICE": "h", "NAMESPACE": "x-1", "SHARE_DIR": "/m"},
        {
            "node.id": "12",
            "advertised.listeners": "PLAINTEXT://a-1-b-12.h.x-1.svc.cluster.local:9092",
            "controller.quorum.voters": _voters("a-1-b", "h", "x-1", 13, 9093),
        },
    ),
    (
        "single-node",
        {"HOSTNAME": "k-0", "REPLICAS": "1", "SERVICE": "k", "NAMESPACE": "default", "SHARE_DIR": "/m"},
        {
            "node.id": "0",
            "process.roles": "broker,controller",
            "controller.quorum.voters": "0@k-0.k.default.svc.cluster.local:9093",
        },
    ),
    (
        "data-dir-wins-over-share-dir",
        {
            "HOSTNAME": "kafka-1",
            "REPLICAS": "3",
            "SERVICE": "s",
            "NAMESPACE": "n",
            "SHARE_DIR": "/share",
            "DATA_DIR": "/var/lib/kafka/data",
        },
        {"log.dirs": "/var/lib/kafka/data"},
    ),
    (
        "data-dir-and-cluster-id-without-share-dir",
        {
            "HOSTNAME": "kafka-1",
            "REPLICAS": "3",
            "SERVICE": "s",
            "NAMESPACE": "n",
            "DATA_DIR": "/data",
            "CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qg",
        },
        {"log.dirs": "/data", "node.id": "1"},
    ),
]


def _derive(values: Mapping[str, Optional[str]], template: Path) -> dict[str, str]:
    settings = parse_settings(values, {})
    caps = capabilities(REFERENCE_VERSION)
    plan = make_plan(settings, resolve_files(settings, caps), caps, properties.read(str(template)))
    return dict(plan.properties)


@pytest.mark.parametrize(("values", "expected"), [(v, e) for _, v, e in CASES], ids=[c[0] for c in CASES])
def test_derived_values(values: dict[str, str], expected: dict[str, str], template_path: Path) -> None:
    """Each derived property has exactly the value SPEC.md gives for this pod."""
    derived = _derive(values, template_path)
    assert {key: derived.get(key) for key in expected} == expected


@pytest.mark.parametrize(("values", "expected"), [(v, e) for _, v, e in CASES], ids=[c[0] for c in CASES])
def test_security_protocol_map_maps_both_listeners(
    values: dict[str, str], expected: dict[str, str], template_path: Path
) -> None:
    """listener.security.protocol.map maps CONTROLLER and PLAINTEXT (to PLAINTEXT)."""
    mapping = dict(
        entry.split(":", 1)
        for entry in _derive(values, template_path)["listener.security.protocol.map"].split(",")
    )
    assert mapping["CONTROLLER"] == "PLAINTEXT"
    assert mapping["PLAINTEXT"] == "PLAINTEXT"


@pytest.mark.parametrize("replicas", [1, 2, 3, 5, 7], ids=lambda n: f"replicas-{n}")
def test_every_ordinal_of_the_statefulset(replicas: int, template_path: Path) -> None:
    """Every pod of a StatefulSet gets its own node.id and address and the same voter list."""
    seen_voters = set()
    for ordinal in range(replicas):
        derived = _derive(
            {
                "HOSTNAME": f"my-kafka-{ordinal}",
                "REPLICAS": str(replicas),
                "SERVICE": "svc",
                "NAMESPACE": "ns",
                "SHARE_DIR": "/share",
            },
            template_path,
        )
        assert derived["node.id"] == str(ordinal)
        assert (
            derived["advertised.listeners"] == f"PLAINTEXT://my-kafka-{ordinal}.svc.ns.svc.cluster.local:9092"
        )
        assert derived["log.dirs"] == f"/share/{ordinal}"
        seen_voters.add(derived["controller.quorum.voters"])
    assert seen_voters == {_voters("my-kafka", "svc", "ns", replicas, 9093)}


def test_template_keys_kept_in_order(template_path: Path) -> None:
    """Every template key survives in the template's order; untouched keys keep their values."""
    template = properties.read(str(template_path))
    derived = _derive(
        {"HOSTNAME": "kafka-0", "REPLICAS": "3", "SERVICE": "s", "NAMESPACE": "n", "SHARE_DIR": "/share"},
        template_path,
    )
    assert list(derived)[: len(template)] == [key for key, _ in template]
    assert derived["num.partitions"] == "1"
    assert derived["log.retention.hours"] == "168"
