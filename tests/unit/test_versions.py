"""Kafka versions as data: libs/ parsing, the capability table, format argv, directory ids, quorum tools."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kraft_entrypoint import cluster_id, commands, installation, kafka_versions
from kraft_entrypoint.commands import InitialController
from kraft_entrypoint.kafka_versions import (
    Capabilities,
    KafkaVersion,
    UnreadableVersion,
    UnsupportedVersion,
)

HOME = "/opt/kafka"
CONFIG = "/var/lib/kafka/config/server.properties"
CID = "MkU3OEVBNTcwNTJENDM2Qg"


def _libs(version: str, scala: str = "2.13") -> list[str]:
    """A distribution's libs/: the broker jar among the other Kafka and Scala jars named alike."""
    return [
        "argparse4j-0.7.0.jar",
        f"connect-api-{version}.jar",
        f"jackson-module-scala_{scala}-2.13.4.jar",
        f"kafka-clients-{version}.jar",
        f"kafka-metadata-{version}.jar",
        f"kafka-raft-{version}.jar",
        f"kafka-server-common-{version}.jar",
        f"kafka-storage-{version}.jar",
        f"kafka-streams-{version}.jar",
        f"kafka-streams-scala_{scala}-{version}.jar",
        f"kafka-tools-{version}.jar",
        f"kafka_{scala}-{version}.jar",
        f"scala-library-{scala}.8.jar",
        f"scala-logging_{scala}-3.9.4.jar",
        f"trogdor-{version}.jar",
    ]


# --- libs/ ---------------------------------------------------------------------------------

LIBS = [
    ("3.2.3", _libs("3.2.3")),
    ("3.3.2", _libs("3.3.2")),
    ("3.3.2-scala-2.12", _libs("3.3.2", scala="2.12")),
    ("3.5.2", _libs("3.5.2")),
    ("3.7.2", _libs("3.7.2")),
    ("3.9.2", _libs("3.9.2")),
    ("4.0.0", _libs("4.0.0")),
    ("4.1.1", _libs("4.1.1")),
    ("4.2.0", _libs("4.2.0")),
    ("4.4.0", _libs("4.4.0")),
    (
        "classifier-jars-beside",
        [
            "kafka_2.13-3.9.2-test.jar",
            "kafka_2.13-3.9.2-sources.jar",
            "kafka_2.13-3.9.2-javadoc.jar",
            "kafka_2.13-3.9.2-scaladoc.jar",
            "kafka_2.13-3.9.2-test-sources.jar",
            "kafka_2.13-3.9.2.jar",
        ],
    ),
    ("two-digit-parts", ["kafka_2.13-3.10.12.jar"]),
]
EXPECTED = {
    "3.2.3": KafkaVersion(3, 2, 3),
    "3.3.2": KafkaVersion(3, 3, 2),
    "3.3.2-scala-2.12": KafkaVersion(3, 3, 2),
    "3.5.2": KafkaVersion(3, 5, 2),
    "3.7.2": KafkaVersion(3, 7, 2),
    "3.9.2": KafkaVersion(3, 9, 2),
    "4.0.0": KafkaVersion(4, 0, 0),
    "4.1.1": KafkaVersion(4, 1, 1),
    "4.2.0": KafkaVersion(4, 2, 0),
    "4.4.0": KafkaVersion(4, 4, 0),
    "classifier-jars-beside": KafkaVersion(3, 9, 2),
    "two-digit-parts": KafkaVersion(3, 10, 12),
}


@pytest.mark.parametrize(("key", "names"), LIBS, ids=[key for key, _ in LIBS])
def test_the_broker_jar_names_the_version(key: str, names: list[str]) -> None:
    """kafka_<scala>-<version>.jar gives the version; other Kafka jars and classifier jars do not count."""
    assert installation.parse_libs(names) == EXPECTED[key]
    assert installation.parse_libs(reversed(names)) == EXPECTED[key]


NO_BROKER_JAR = [
    ("empty", []),
    ("no-kafka", ["scala-library-2.13.8.jar", "zookeeper-3.6.3.jar"]),
    ("other-kafka-jars", [
        "kafka-clients-3.3.2.jar", "kafka-server-common-3.3.2.jar", "kafka-tools-3.3.2.jar",
    ]),
    ("streams-scala", ["kafka-streams-scala_2.13-3.3.2.jar"]),
    ("classifier-only", ["kafka_2.13-3.3.2-test.jar", "kafka_2.13-3.3.2-sources.jar"]),
    ("not-a-jar", ["kafka_2.13-3.3.2.jar.asc", "kafka_2.13-3.3.2.tgz", "kafka_2.13-3.3.2"]),
]


@pytest.mark.parametrize("names", [n for _, n in NO_BROKER_JAR], ids=[i for i, _ in NO_BROKER_JAR])
def test_no_broker_jar_is_no_version(names: list[str]) -> None:
    """Without kafka_<scala>-<version>.jar there is no version: None, not a guess."""
    assert installation.parse_libs(names) is None


J332 = "kafka_2.13-3.3.2.jar"
UNREADABLE = [
    ("two-versions", [J332, "kafka_2.13-3.9.2.jar"], [f"{J332}, kafka_2.13-3.9.2.jar"]),
    ("two-scala-builds", ["kafka_2.12-3.3.2.jar", J332], [f"kafka_2.12-3.3.2.jar, {J332}"]),
    ("release-candidate", ["kafka_2.13-4.0.0-rc1.jar"], ["kafka_2.13-4.0.0-rc1.jar", "x.y.z", "'4.0.0-rc1'"]),
    ("snapshot", ["kafka_2.13-4.1.0-SNAPSHOT.jar"], ["4.1.0-SNAPSHOT", "x.y.z"]),
    ("two-parts", ["kafka_2.13-3.9.jar"], ["'3.9'", "x.y.z"]),
    ("four-parts", ["kafka_2.13-3.9.0.1.jar"], ["3.9.0.1"]),
    ("leading-zero", ["kafka_2.13-3.03.2.jar"], ["3.03.2"]),
    ("unicode-digit", ["kafka_2.13-\uff13.3.2.jar"], ["\\uff13"]),
]


@pytest.mark.parametrize(
    ("names", "said"), [(n, s) for _, n, s in UNREADABLE], ids=[i for i, _, _ in UNREADABLE]
)
def test_ambiguous_or_unreadable_libs_are_refused_with_a_reason(names: list[str], said: list[str]) -> None:
    """Several broker jars, or a version that is not x.y.z: UnreadableVersion (a ValueError) naming them."""
    with pytest.raises(UnreadableVersion) as caught:
        installation.parse_libs(names)
    assert isinstance(caught.value, ValueError)
    for words in said:
        assert words in str(caught.value)


def test_versions_order_as_releases_and_print_as_kafka_does() -> None:
    """KafkaVersion compares by (major, minor, patch), not as text; str is x.y.z."""
    assert KafkaVersion(3, 10, 0) > KafkaVersion(3, 9, 2) > KafkaVersion(3, 3, 2)
    assert KafkaVersion(4, 0, 0) > KafkaVersion(3, 99, 99)
    assert str(KafkaVersion(3, 9, 1)) == "3.9.1"
    assert KafkaVersion.parse("10.0.3") == KafkaVersion(10, 0, 3)


@given(st.tuples(*[st.integers(min_value=0, max_value=9999)] * 3))
def test_parse_and_str_round_trip(parts: tuple[int, int, int]) -> None:
    """Every x.y.z prints and parses back to itself, and orders as its tuple."""
    version = KafkaVersion(*parts)
    assert KafkaVersion.parse(str(version)) == version
    assert (version < KafkaVersion(3, 3, 0)) == (parts < (3, 3, 0))


# --- the capability table ------------------------------------------------------------------

T3, T4 = "config/kraft/server.properties", "config/server.properties"
L1, L2 = "config/log4j.properties", "config/log4j2.yaml"
# Read in Kafka's sources of each release (see kafka_versions.FACTS); written out here on their own.
#          version  template log4j java dirid  scram  feat   qboot  dyn    cmds   bctrl  reject auto   qs
CAPS = [
    ("3.3.2", T3, L1, 8, False, False, False, False, False, False, False, False, False, {0}),
    ("3.4.1", T3, L1, 8, False, False, False, False, False, False, False, False, False, {0}),
    ("3.5.2", T3, L1, 8, False, True, False, False, False, False, False, False, False, {0}),
    ("3.6.2", T3, L1, 8, False, True, False, False, False, False, False, False, False, {0}),
    ("3.7.2", T3, L1, 8, True, True, False, False, False, False, True, False, False, {0}),
    ("3.8.1", T3, L1, 8, True, True, True, True, False, False, True, False, False, {0, 1}),
    ("3.9.0", T3, L1, 8, True, True, True, True, True, True, True, False, False, {0, 1}),
    ("3.9.1", T3, L1, 8, True, True, True, True, True, True, True, False, False, {0, 1}),
    ("3.9.2", T3, L1, 8, True, True, True, True, True, True, True, True, False, {0, 1}),
    ("4.0.0", T4, L2, 17, True, True, True, True, True, True, True, False, False, {0, 1}),
    ("4.0.1", T4, L2, 17, True, True, True, True, True, True, True, False, False, {0, 1}),
    ("4.0.2", T4, L2, 17, True, True, True, True, True, True, True, True, False, {0, 1}),
    ("4.1.0", T4, L2, 17, True, True, True, True, True, True, True, False, False, {0, 1}),
    ("4.1.1", T4, L2, 17, True, True, True, True, True, True, True, True, False, {0, 1}),
    ("4.2.0", T4, L2, 17, True, True, True, True, True, True, True, True, True, {0, 1}),
    ("4.3.1", T4, L2, 17, True, True, True, True, True, True, True, True, True, {0, 1}),
    ("4.4.0", T4, L2, 17, True, True, True, True, True, True, True, True, True, {0, 1}),
]


@pytest.mark.parametrize(
    (
        "text", "template", "log4j", "java", "dirid", "scram", "feature",
        "qboot", "dynamic", "cmds", "bctrl", "reject", "auto", "qs",
    ),
    CAPS,
    ids=[row[0] for row in CAPS],
)
def test_capabilities_per_release(
    text: str,
    template: str,
    log4j: str,
    java: int,
    dirid: bool,
    scram: bool,
    feature: bool,
    qboot: bool,
    dynamic: bool,
    cmds: bool,
    bctrl: bool,
    reject: bool,
    auto: bool,
    qs: set[int],
) -> None:
    """Each release's capabilities, field by field, as read in that release's sources."""
    version = KafkaVersion.parse(text)
    assert kafka_versions.capabilities(version) == Capabilities(
        version=version,
        template_path=template,
        log4j_config=log4j,
        log4j2=log4j == L2,
        min_java=java,
        has_directory_id=dirid,
        ignore_formatted=True,
        add_scram=scram,
        feature_flag=feature,
        quorum_bootstrap_servers=qboot,
        dynamic_quorum=dynamic,
        controller_commands=cmds,
        bootstrap_controller_flag=bctrl,
        rejects_initial_controllers_with_static_voters=reject,
        auto_join=auto,
        quorum_state_versions=frozenset(qs),
    )


@pytest.mark.parametrize("text", ["3.2.3", "3.0.0", "2.8.2", "0.10.0"])
def test_releases_before_kraft_production_are_refused(text: str) -> None:
    """Below 3.3: UnsupportedVersion (a ValueError) saying KRaft needs >= 3.3 and naming the version."""
    with pytest.raises(UnsupportedVersion) as caught:
        kafka_versions.capabilities(KafkaVersion.parse(text))
    assert isinstance(caught.value, ValueError)
    assert ">= 3.3" in str(caught.value)
    assert f"Kafka {text} is installed" in str(caught.value)


def test_a_future_release_keeps_the_newest_capabilities() -> None:
    """A release newer than any in the table gets what the newest one has (every span is open-ended)."""
    newest = kafka_versions.capabilities(KafkaVersion(4, 4, 0))
    future = kafka_versions.capabilities(KafkaVersion(5, 0, 0))
    assert future == Capabilities(**{**newest.__dict__, "version": KafkaVersion(5, 0, 0)})


@pytest.mark.parametrize(
    ("text", "static", "dynamic"), [("3.3.2", 0, None), ("3.9.2", 0, 1), ("4.4.0", 0, 1)]
)
def test_quorum_state_version_follows_the_quorum_mode(text: str, static: int, dynamic: Optional[int]) -> None:
    """quorum-state is written as version 0 (currentVoters) for a static quorum, 1 only for a dynamic one."""
    caps = kafka_versions.capabilities(KafkaVersion.parse(text))
    assert caps.quorum_state_version(dynamic=False) == static
    if dynamic is None:
        with pytest.raises(ValueError, match=r">= 3\.9"):
            caps.quorum_state_version(dynamic=True)
    else:
        assert caps.quorum_state_version(dynamic=True) == dynamic
        assert dynamic in caps.quorum_state_versions


def test_fact_spans_are_ordered_and_disjoint() -> None:
    """The table itself: every span starts at or after 3.3, ends after it starts, and spans do not overlap."""
    for name, fact in kafka_versions.FACTS.items():
        assert fact.evidence, name
        previous_end: Optional[KafkaVersion] = None
        for span in fact.spans:
            assert span.first >= kafka_versions.KRAFT_MINIMUM, name
            assert span.until is None or span.until > span.first, name
            assert previous_end is None or span.first >= previous_end, name
            previous_end = span.until


# --- format argv ---------------------------------------------------------------------------

DIR0, DIR1, DIR2 = "T0u5ml6S2_UI4GeCfocR7w", "hqTjVj7WuZLzX0lpKh6-qw", "9Y6Rya3KdeeIM2IM8OOn5g"
FQDN = "kafka-{}.kafka.ns.svc.cluster.local"
INITIAL = [InitialController(i, FQDN.format(i), 9093, d) for i, d in enumerate((DIR0, DIR1, DIR2))]
STATIC = [
    "/opt/kafka/bin/kafka-storage.sh",
    "format",
    "--config",
    CONFIG,
    f"--cluster-id={CID}",
    "--ignore-formatted",
]
FIRST = f"0@kafka-0.kafka.ns.svc.cluster.local:9093:{DIR0}"
LIST = (
    f"{FIRST},"
    f"1@kafka-1.kafka.ns.svc.cluster.local:9093:{DIR1},"
    f"2@kafka-2.kafka.ns.svc.cluster.local:9093:{DIR2}"
)


def _caps(text: str) -> Capabilities:
    return kafka_versions.capabilities(KafkaVersion.parse(text))


@pytest.mark.parametrize("text", [row[0] for row in CAPS])
def test_static_format_argv_is_the_same_on_every_release(text: str) -> None:
    """Static quorum: exactly the 3.3.2 command line, on every release (all accept --ignore-formatted)."""
    assert list(commands.format_argv(HOME, CONFIG, CID, _caps(text), None, False)) == STATIC


def test_a_cluster_id_starting_with_dash_stays_one_word() -> None:
    """--cluster-id=<id> is one word, so an id starting with '-' is not read as an option."""
    argv = commands.format_argv(HOME, CONFIG, "-3Xy5ZpXQ8ie9gl3rTw8wA", _caps("3.3.2"), None, False)
    assert argv[4] == "--cluster-id=-3Xy5ZpXQ8ie9gl3rTw8wA"
    assert "-3Xy5ZpXQ8ie9gl3rTw8wA" not in argv


DYNAMIC = [
    ("3.9.0-initial", "3.9.0", INITIAL, False, [*STATIC, "--initial-controllers", LIST]),
    ("3.9.2-initial", "3.9.2", INITIAL, False, [*STATIC, "--initial-controllers", LIST]),
    ("4.2.0-initial", "4.2.0", INITIAL, False, [*STATIC, "--initial-controllers", LIST]),
    ("4.4.0-one-initial", "4.4.0", INITIAL[:1], False, [*STATIC, "--initial-controllers", FIRST]),
    ("3.9.2-joining", "3.9.2", None, True, [*STATIC, "--no-initial-controllers"]),
    ("4.1.1-joining", "4.1.1", None, True, [*STATIC, "--no-initial-controllers"]),
    ("4.2.0-joining-list-known", "4.2.0", INITIAL, True, [*STATIC, "--no-initial-controllers"]),
]


@pytest.mark.parametrize(
    ("text", "initial", "joining", "expected"),
    [row[1:] for row in DYNAMIC],
    ids=[row[0] for row in DYNAMIC],
)
def test_dynamic_format_argv(
    text: str, initial: Optional[Sequence[InitialController]], joining: bool, expected: list[str]
) -> None:
    """Dynamic: initial controllers get --initial-controllers <list>, the rest --no-initial-controllers."""
    assert list(commands.format_argv(HOME, CONFIG, CID, _caps(text), initial, joining)) == expected


@pytest.mark.parametrize(("text", "initial", "joining"), [
    ("3.3.2", INITIAL, False),
    ("3.8.1", INITIAL, False),
    ("3.8.1", None, True),
])
def test_dynamic_format_is_refused_before_3_9(
    text: str, initial: Optional[Sequence[InitialController]], joining: bool
) -> None:
    """A dynamic quorum on a release without KIP-853 is a ValueError naming the version and 3.9."""
    with pytest.raises(ValueError, match=rf"Kafka >= 3\.9; Kafka {text} is installed"):
        commands.format_argv(HOME, CONFIG, CID, _caps(text), initial, joining)


def test_an_ipv6_controller_host_is_bracketed() -> None:
    """A host with ':' is written [host], the only form Kafka's DynamicVoter.parse reads."""
    argv = commands.format_argv(
        HOME, CONFIG, CID, _caps("3.9.2"), [InitialController(0, "fd00::1", 9093, DIR0)], False
    )
    assert argv[-1] == f"0@[fd00::1]:9093:{DIR0}"


BAD_CONTROLLERS = [
    ("empty", []),
    ("same-node-twice", [INITIAL[0], InitialController(0, "other", 9093, DIR1)]),
    ("negative-node", [InitialController(-1, "h", 9093, DIR0)]),
    ("node-too-big", [InitialController(2**31, "h", 9093, DIR0)]),
    ("empty-host", [InitialController(0, "", 9093, DIR0)]),
    ("host-with-comma", [InitialController(0, "a,b", 9093, DIR0)]),
    ("host-with-at", [InitialController(0, "a@b", 9093, DIR0)]),
    ("port-zero", [InitialController(0, "h", 0, DIR0)]),
    ("port-too-big", [InitialController(0, "h", 65536, DIR0)]),
    ("dir-id-short", [InitialController(0, "h", 9093, DIR0[:-1])]),
    ("dir-id-zero", [InitialController(0, "h", 9093, "AAAAAAAAAAAAAAAAAAAAAA")]),
    ("dir-id-reserved", [InitialController(0, "h", 9093, "AAAAAAAAAAAAAAAAAAAAAg")]),
]


@pytest.mark.parametrize("controllers", [c for _, c in BAD_CONTROLLERS], ids=[i for i, _ in BAD_CONTROLLERS])
def test_an_initial_controller_list_kafka_would_refuse_is_a_value_error(
    controllers: list[InitialController],
) -> None:
    """Empty list, duplicate node id, bad host, port or directory id: ValueError before any format runs."""
    with pytest.raises(ValueError, match=r"initial[ -]controller"):
        commands.format_argv(HOME, CONFIG, CID, _caps("4.2.0"), controllers, False)


# --- directory ids -------------------------------------------------------------------------


def _candidate(cluster: str, node: int, counter: int) -> str:
    """The documented derivation, written out independently: SHA-256 of the NUL-joined parts, 16 bytes."""
    message = f"kraft-entrypoint directory.id v1\0{cluster}\0{node}\0{counter}".encode("ascii")
    return base64.urlsafe_b64encode(hashlib.sha256(message).digest()[:16]).rstrip(b"=").decode()


def _kafka_takes(text: str) -> bool:
    """Independent check: canonical 16-byte Uuid text, not Uuid.ZERO/ONE, not DirectoryId.reserved."""
    if len(text) != 22 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text):
        return False
    raw = base64.urlsafe_b64decode(text + "==")
    if len(raw) != 16 or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != text:
        return False
    most = int.from_bytes(raw[:8], "big", signed=True)
    least = int.from_bytes(raw[8:], "big", signed=True)
    return not (most == 0 and least < 100)


def test_directory_ids_are_pinned() -> None:
    """The derivation never changes silently: pods running different entrypoint releases must agree."""
    assert cluster_id.directory_id(CID, 0) == DIR0
    assert cluster_id.directory_id(CID, 1) == DIR1
    assert cluster_id.directory_id(CID, 2) == DIR2
    assert cluster_id.directory_id("-3Xy5ZpXQ8ie9gl3rTw8wA", 0) == "2CXhtT_MxxPWshIBY2Nf_w"


def test_directory_ids_over_1000_nodes_are_valid_distinct_and_follow_the_derivation() -> None:
    """1000 node ids of one cluster: deterministic, valid, never '-', all different, first good candidate."""
    ids = [cluster_id.directory_id(CID, node) for node in range(1000)]
    assert ids == [cluster_id.directory_id(CID, node) for node in range(1000)]
    assert len(set(ids)) == 1000
    retried = 0
    for node, value in enumerate(ids):
        assert cluster_id.problem_with(value) is None
        assert _kafka_takes(value)
        assert not value.startswith("-")
        assert cluster_id.directory_id_problem(value) is None
        first = _candidate(CID, node, 0)
        if first.startswith("-"):
            retried += 1
            assert value == _candidate(CID, node, 1) or value == _candidate(CID, node, 2)
        else:
            assert value == first
    assert retried > 0  # about 1 in 64: the '-' retry path ran


def test_directory_ids_differ_across_clusters_for_one_node() -> None:
    """The same node id in 500 clusters gets 500 different ids."""
    clusters = {cluster_id.generate() for _ in range(500)}
    assert len({cluster_id.directory_id(cluster, 3) for cluster in clusters}) == len(clusters)


@given(st.binary(min_size=16, max_size=16), st.integers(min_value=0, max_value=2**31 - 1))
def test_any_cluster_and_node_give_an_id_kafka_takes(raw: bytes, node: int) -> None:
    """For any valid cluster id and node id the result is an id Kafka takes, not starting with '-'."""
    cluster = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    if cluster_id.problem_with(cluster) is not None:
        return
    value = cluster_id.directory_id(cluster, node)
    assert _kafka_takes(value)
    assert not value.startswith("-")


@pytest.mark.parametrize(
    ("cluster", "node"),
    [("", 0), ("AAAAAAAAAAAAAAAAAAAAAA", 0), (CID + "x", 0), (CID, -1), (CID, 2**31), (CID, True)],
    ids=["empty-cluster", "zero-cluster", "long-cluster", "negative-node", "node-too-big", "bool-node"],
)
def test_directory_id_refuses_invalid_inputs(cluster: str, node: int) -> None:
    """An invalid cluster id or node id is a ValueError, never an id derived from garbage."""
    with pytest.raises(ValueError, match="is not"):
        cluster_id.directory_id(cluster, node)


RESERVED = [
    ("zero", 0, 0),
    ("one-metadata-topic", 0, 1),
    ("lost", 0, 2),
    ("last-reserved", 0, 99),
    ("negative-least", 0, 2**64 - 1),
]


@pytest.mark.parametrize(
    ("most", "least"), [(m, le) for _, m, le in RESERVED], ids=[i for i, _, _ in RESERVED]
)
def test_reserved_directory_ids_are_refused(most: int, least: int) -> None:
    """Uuid.ZERO/ONE and DirectoryId.reserved (msb 0, signed lsb < 100) are never a directory id."""
    text = base64.urlsafe_b64encode(most.to_bytes(8, "big") + least.to_bytes(8, "big")).rstrip(b"=").decode()
    assert cluster_id.kafka_directory_id_problem(text)
    assert cluster_id.directory_id_problem(text)


def test_the_first_unreserved_small_id_and_a_dash_id() -> None:
    """msb 0, lsb 100 is Kafka's first free id; an id starting with '-' is Kafka's but never generated."""
    first_free = base64.urlsafe_b64encode(bytes(15) + b"\x64").rstrip(b"=").decode()
    assert cluster_id.kafka_directory_id_problem(first_free) is None
    assert cluster_id.kafka_directory_id_problem("-3Xy5ZpXQ8ie9gl3rTw8wA") is None
    assert cluster_id.directory_id_problem("-3Xy5ZpXQ8ie9gl3rTw8wA") == "it starts with '-'"


# --- kafka-metadata-quorum.sh --------------------------------------------------------------

BOOT = "kafka-0.kafka.ns.svc.cluster.local:9093,kafka-1.kafka.ns.svc.cluster.local:9093"


def test_add_controller_command() -> None:
    """add-controller: the controller's own config is the command config; options before the command."""
    assert list(commands.add_controller_command(HOME, CONFIG, BOOT)) == [
        "/opt/kafka/bin/kafka-metadata-quorum.sh",
        "--bootstrap-controller",
        BOOT,
        "--command-config",
        CONFIG,
        "add-controller",
    ]


def test_remove_controller_command() -> None:
    """remove-controller by id and directory id, the directory id one word; --command-config when given."""
    assert list(commands.remove_controller_command(HOME, BOOT, 3, DIR1)) == [
        "/opt/kafka/bin/kafka-metadata-quorum.sh",
        "--bootstrap-controller",
        BOOT,
        "remove-controller",
        "--controller-id",
        "3",
        f"--controller-directory-id={DIR1}",
    ]
    assert list(commands.remove_controller_command(HOME, BOOT, 3, "-3Xy5ZpXQ8ie9gl3rTw8wA", CONFIG)) == [
        "/opt/kafka/bin/kafka-metadata-quorum.sh",
        "--bootstrap-controller",
        BOOT,
        "--command-config",
        CONFIG,
        "remove-controller",
        "--controller-id",
        "3",
        "--controller-directory-id=-3Xy5ZpXQ8ie9gl3rTw8wA",
    ]


@pytest.mark.parametrize(
    ("boot", "node", "directory"),
    [
        ("", 1, DIR1),
        ("-x:9093", 1, DIR1),
        ("a:1 b:2", 1, DIR1),
        (BOOT, -1, DIR1),
        (BOOT, 1, "AAAAAAAAAAAAAAAAAAAAAQ"),
    ],
    ids=["empty-bootstrap", "dash-bootstrap", "space-bootstrap", "negative-id", "reserved-directory"],
)
def test_quorum_commands_refuse_bad_arguments(boot: str, node: int, directory: str) -> None:
    """A bootstrap list, controller id or directory id the tool would misread is a ValueError."""
    with pytest.raises(ValueError, match="is not"):
        commands.remove_controller_command(HOME, boot, node, directory)
    if node == 1 and directory == DIR1:
        with pytest.raises(ValueError, match="is not"):
            commands.add_controller_command(HOME, CONFIG, boot)


# --- installation.read_version -------------------------------------------------------------


def _home(tmp_path: Path, names: Sequence[str]) -> str:
    libs = tmp_path / "kafka" / "libs"
    libs.mkdir(parents=True)
    for name in names:
        (libs / name).write_bytes(b"")
    return str(tmp_path / "kafka")


@pytest.mark.parametrize("text", ["3.3.2", "3.9.2", "4.4.0"])
def test_read_version_lists_libs(tmp_path: Path, text: str) -> None:
    """A KAFKA_HOME whose libs/ holds a distribution's jars gives that version."""
    assert installation.read_version(_home(tmp_path, _libs(text))) == KafkaVersion.parse(text)


def test_read_version_without_libs_or_home_is_none(tmp_path: Path) -> None:
    """No libs/ (or no KAFKA_HOME at all), or a libs/ without the broker jar: None."""
    (tmp_path / "bare").mkdir()
    assert installation.read_version(str(tmp_path / "bare")) is None
    assert installation.read_version(str(tmp_path / "missing")) is None
    assert installation.read_version(_home(tmp_path, ["kafka-clients-3.3.2.jar"])) is None


def test_read_version_passes_on_other_os_errors(tmp_path: Path) -> None:
    """A libs that is a file is an OSError (ENOTDIR), not 'no Kafka here'."""
    (tmp_path / "libs").write_text("not a directory")
    with pytest.raises(NotADirectoryError):
        installation.read_version(str(tmp_path))


def test_read_version_refuses_an_ambiguous_libs(tmp_path: Path) -> None:
    """Two broker jars in libs/: UnreadableVersion naming both."""
    home = _home(tmp_path, ["kafka_2.13-3.3.2.jar", "kafka_2.13-4.4.0.jar"])
    with pytest.raises(UnreadableVersion, match=r"kafka_2\.13-3\.3\.2\.jar, kafka_2\.13-4\.4\.0\.jar"):
        installation.read_version(home)


def test_read_version_follows_a_symlinked_libs(tmp_path: Path) -> None:
    """libs/ reached through a symlink (as images often lay it out) is read like a directory."""
    real = tmp_path / "real-libs"
    real.mkdir()
    (real / "kafka_2.13-3.3.2.jar").write_bytes(b"")
    (tmp_path / "home").mkdir()
    os.symlink(real, tmp_path / "home" / "libs")
    assert installation.read_version(str(tmp_path / "home")) == KafkaVersion(3, 3, 2)
