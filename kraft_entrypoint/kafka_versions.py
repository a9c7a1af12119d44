"""Kafka releases as data: what each version's files and tools look like.

The entrypoint never branches on a version number: it reads the installed version from
``$KAFKA_HOME/libs`` (``installation.py``), asks :func:`capabilities` for that release's
:class:`Capabilities`, and consults its fields. Every field comes from :data:`FACTS`, a table of
the releases each fact holds for, with where in Kafka's own source (or build) it was read.
The command lines built from these facts are in ``commands.py``.

Pure: no I/O, no environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Optional

from kraft_entrypoint import cluster_id as cluster_ids


class VersionError(ValueError):
    """The installed Kafka version cannot be used; the message says why."""


class UnreadableVersion(VersionError):
    """``$KAFKA_HOME/libs`` does not name exactly one Kafka release in the ``x.y.z`` form."""


class UnsupportedVersion(VersionError):
    """A Kafka release older than KRaft's first production-ready one (3.3)."""


@dataclass(frozen=True, order=True)
class KafkaVersion:
    """A Kafka release ``major.minor.patch``; ordered as releases are."""

    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @classmethod
    def parse(cls, text: str) -> KafkaVersion:
        """``"3.9.1"`` -> KafkaVersion(3, 9, 1); anything else (``4.0.0-rc1``, ``3.9``) is refused."""
        match = _VERSION.fullmatch(text)
        if match is None:
            raise UnreadableVersion(
                f"Kafka version {cluster_ids.shown(text)} is not of the form x.y.z (e.g. 3.3.2); "
                "pre-release and snapshot builds are not supported, since what they can do "
                "cannot be read from their version"
            )
        return cls(int(match[1]), int(match[2]), int(match[3]))


_VERSION = re.compile(r"(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})")
#: KRaft is production-ready from 3.3 (Kafka's upgrade notes, e.g. kafka.apache.org/40 "Upgrading").
KRAFT_MINIMUM = KafkaVersion(3, 3, 0)


#: The image's default Kafka, the reference of the tests and the example value in messages.
REFERENCE_VERSION = KafkaVersion(3, 3, 2)


# --- the capability table ------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """Releases ``first`` up to (not including) ``until``; ``until`` None: every later one."""

    first: KafkaVersion
    until: Optional[KafkaVersion] = None

    def __contains__(self, version: object) -> bool:
        return (
            isinstance(version, KafkaVersion)
            and self.first <= version
            and (self.until is None or version < self.until)
        )


@dataclass(frozen=True)
class Fact:
    """One difference between releases: the spans it holds for and where that was read."""

    spans: tuple[Span, ...]
    evidence: str

    def holds(self, version: KafkaVersion) -> bool:
        return any(version in span for span in self.spans)


def _v(text: str) -> KafkaVersion:
    return KafkaVersion.parse(text)


def _since(text: str) -> tuple[Span, ...]:
    return (Span(_v(text)),)


#: Every per-release difference the entrypoint knows, as data. Spans were read in the Maven
#: Central ``-sources`` jars of each release named (org.apache.kafka:<artifact>:<version>) and,
#: for 4.4.0 (no sources jar published there), in its binary jars and its tools' --help.
FACTS: Mapping[str, Fact] = MappingProxyType({
    "ignore_formatted": Fact(
        _since("3.3.0"),
        "kafka_2.13 3.3.2..4.3.1 kafka/tools/StorageTool.scala: formatParser "
        'addArgument("--ignore-formatted", "-g"); 4.4.0 kafka-storage.sh format --help lists it',
    ),
    "add_scram": Fact(
        _since("3.5.0"),
        'kafka_2.13 3.5.2 kafka/tools/StorageTool.scala addArgument("--add-scram", "-S"); absent in 3.4.1',
    ),
    "has_directory_id": Fact(
        _since("3.7.0"),
        "kafka-metadata 3.7.2 org/apache/kafka/metadata/properties/MetaProperties.java "
        'DIRECTORY_ID_PROP = "directory.id"; kafka_2.13 3.7.2 StorageTool.scala '
        "setDirectoryId(copier.generateValidDirectoryId()); no directory.id anywhere in 3.6.2",
    ),
    "feature_flag": Fact(
        _since("3.8.0"),
        'kafka_2.13 3.8.1 kafka/tools/StorageTool.scala addArgument("--feature", "-f"); absent in 3.7.2',
    ),
    "quorum_bootstrap_servers": Fact(
        _since("3.8.0"),
        "kafka-raft 3.8.1 org/apache/kafka/raft/QuorumConfig.java QUORUM_BOOTSTRAP_SERVERS_CONFIG "
        '= QUORUM_PREFIX + "bootstrap.servers"; absent from 3.7.2 RaftConfig.java',
    ),
    "quorum_state_v1": Fact(
        _since("3.8.0"),
        "kafka-raft 3.8.1 org/apache/kafka/raft/FileQuorumStateStore.java HIGHEST_SUPPORTED_VERSION = 1, "
        "version = kraft.version (quorumStateVersionFromKRaftVersion); 3.7.2 FileBasedStateStore.java "
        "HIGHEST_SUPPORTED_VERSION = 0 and refuses data_version != 0; common/message/QuorumStateData.json: "
        "CurrentVoters only in version 0, VotedDirectoryId only in 1+",
    ),
    "dynamic_quorum": Fact(
        _since("3.9.0"),
        "kafka_2.13 3.9.0 kafka/tools/StorageTool.scala mutually exclusive --standalone / "
        "--no-initial-controllers / --initial-controllers; absent in 3.8.1; kafka-raft 3.9.0 "
        "org/apache/kafka/raft/DynamicVoter.java parse(id@host:port:directoryId)",
    ),
    "controller_commands": Fact(
        _since("3.9.0"),
        "kafka-tools 3.9.0 org/apache/kafka/tools/MetadataQuorumCommand.java addParser(\"add-controller\"), "
        'addParser("remove-controller") with --controller-id / --controller-directory-id; absent in 3.8.1',
    ),
    "bootstrap_controller_flag": Fact(
        _since("3.7.0"),
        "kafka-tools 3.7.2 org/apache/kafka/tools/MetadataQuorumCommand.java "
        'addArgument("--bootstrap-controller"); absent in 3.6.2',
    ),
    "rejects_initial_controllers_with_static_voters": Fact(
        (
            Span(_v("3.9.2"), _v("4.0.0")),
            Span(_v("4.0.2"), _v("4.1.0")),
            Span(_v("4.1.1")),
        ),
        'kafka_2.13 kafka/tools/StorageTool.scala runFormatCommand "You cannot specify '
        'controller.quorum.voters and format the node with --initial-controllers or --standalone": present '
        "in 3.9.2, 4.0.2, 4.1.1, 4.2.0, 4.3.1 (and 4.4.0's StorageTool$.class); absent in 3.9.0, 3.9.1, "
        "4.0.0, 4.0.1, 4.1.0",
    ),
    "auto_join": Fact(
        _since("4.2.0"),
        "kafka-raft 4.2.0 org/apache/kafka/raft/QuorumConfig.java QUORUM_AUTO_JOIN_ENABLE_CONFIG = "
        'QUORUM_PREFIX + "auto.join.enable" (default false); absent in 4.1.1; kafka_2.13 4.2.0 '
        "kafka/server/KafkaConfig.scala requires it false when process.roles=broker",
    ),
    "config_without_kraft_dir": Fact(
        _since("4.0.0"),
        "apache/kafka PR #18389 (KAFKA-18229, \"Move configs out of 'kraft' directory\", merged 2025-01 "
        "for 4.0); 3.x distributions ship config/kraft/server.properties",
    ),
    "log4j2": Fact(
        _since("4.0.0"),
        "apache/kafka PR #17373 (KAFKA-9366, log4j -> log4j2, config/log4j2.yaml, merged 2024-12 for 4.0); "
        "kafka_2.13 4.0.0 sources import org.apache.logging.log4j, 3.9.2 import org.apache.log4j",
    ),
    "java17": Fact(
        _since("4.0.0"),
        "class-file major version of kafka_2.13-<v>.jar: 52 (Java 8) in 3.3.2 and 3.9.2, 61 (Java 17) "
        "in 4.0.0, 4.1.1, 4.4.0 (kafka-server-common too); kafka.apache.org/40 Compatibility: "
        "Server 4.0.0 not on Java 11, on 17",
    ),
})

TEMPLATE_3 = "config/kraft/server.properties"
TEMPLATE_4 = "config/server.properties"


@dataclass(frozen=True)
class Capabilities:
    """What one Kafka release can do, as the entrypoint needs it; build with :func:`capabilities`."""

    version: KafkaVersion
    #: The KRaft template, relative to KAFKA_HOME.
    template_path: str
    #: The broker's logging configuration, relative to KAFKA_HOME.
    log4j_config: str
    #: log4j 2 (``-Dlog4j2.configurationFile``) instead of log4j 1 / reload4j.
    log4j2: bool
    #: The oldest Java the broker and its tools run on.
    min_java: int
    #: ``format`` writes ``directory.id`` into each meta.properties.
    has_directory_id: bool
    #: ``format --ignore-formatted`` (skip formatted directories instead of failing).
    ignore_formatted: bool
    #: ``format --add-scram``.
    add_scram: bool
    #: ``format --feature name=level``.
    feature_flag: bool
    #: ``controller.quorum.bootstrap.servers`` is a known property.
    quorum_bootstrap_servers: bool
    #: KIP-853 dynamic quorum: ``format --standalone / --initial-controllers / --no-initial-controllers``.
    dynamic_quorum: bool
    #: ``kafka-metadata-quorum.sh add-controller`` and ``remove-controller``.
    controller_commands: bool
    #: ``kafka-metadata-quorum.sh --bootstrap-controller``.
    bootstrap_controller_flag: bool
    #: ``format`` refuses --initial-controllers/--standalone when controller.quorum.voters is set.
    rejects_initial_controllers_with_static_voters: bool
    #: ``controller.quorum.auto.join.enable`` (controllers only: a broker-only node must not set it).
    auto_join: bool
    #: The ``data_version`` values of ``quorum-state`` this release reads and writes.
    quorum_state_versions: frozenset[int]

    def quorum_state_version(self, dynamic: bool) -> int:
        """The ``quorum-state`` ``data_version`` this release writes: it follows ``kraft.version``.

        0 (with ``currentVoters``) under a static quorum, on every release; 1 (``votedDirectoryId``,
        no ``currentVoters``) under a dynamic one (kraft.version 1).
        """
        if dynamic and not self.dynamic_quorum:
            raise ValueError(no_dynamic(self.version))
        return 1 if dynamic else 0


def capabilities(version: KafkaVersion) -> Capabilities:
    """The capabilities of ``version``; :class:`UnsupportedVersion` below 3.3."""
    if version < KRAFT_MINIMUM:
        raise UnsupportedVersion(
            f"Kafka {version} is installed, but KRaft needs Kafka >= {KRAFT_MINIMUM.major}."
            f"{KRAFT_MINIMUM.minor} (the first release where it is production-ready)"
        )

    def has(name: str) -> bool:
        return FACTS[name].holds(version)

    return Capabilities(
        version=version,
        template_path=TEMPLATE_4 if has("config_without_kraft_dir") else TEMPLATE_3,
        log4j_config="config/log4j2.yaml" if has("log4j2") else "config/log4j.properties",
        log4j2=has("log4j2"),
        min_java=17 if has("java17") else 8,
        has_directory_id=has("has_directory_id"),
        ignore_formatted=has("ignore_formatted"),
        add_scram=has("add_scram"),
        feature_flag=has("feature_flag"),
        quorum_bootstrap_servers=has("quorum_bootstrap_servers"),
        dynamic_quorum=has("dynamic_quorum"),
        controller_commands=has("controller_commands"),
        bootstrap_controller_flag=has("bootstrap_controller_flag"),
        rejects_initial_controllers_with_static_voters=has("rejects_initial_controllers_with_static_voters"),
        auto_join=has("auto_join"),
        quorum_state_versions=frozenset({0, 1}) if has("quorum_state_v1") else frozenset({0}),
    )


def no_dynamic(version: KafkaVersion) -> str:
    return (
        f"a dynamic controller quorum (KIP-853) needs Kafka >= 3.9; Kafka {version} is installed "
        "and knows only the static controller.quorum.voters"
    )


def no_scram(version: KafkaVersion) -> str:
    return (
        f"SCRAM needs Kafka >= 3.5 (KIP-900: kafka-storage.sh format --add-scram); Kafka {version} "
        "is installed, whose KRaft controllers cannot store SCRAM credentials"
    )


# --- what the project tests, and which configuration list fits a release -----------------

#: The newest release of the project's test matrix (scripts/kafka-dist.d/versions.txt); a newer
#: one starts with a warning.
NEWEST_TESTED = KafkaVersion(4, 4, 0)
#: The highest major release the entrypoint knows; a newer major changes the storage tool and the
#: configuration, so it is refused unless KAFKA_UNTESTED=allow.
HIGHEST_KNOWN_MAJOR = 4


@dataclass(frozen=True)
class Untested:
    """A release beyond the test matrix: why, and whether it is a new major (refused unless allowed)."""

    reason: str
    new_major: bool


def untested(version: KafkaVersion) -> Optional[Untested]:
    """Why ``version`` is beyond what the project tests, or None when it is within."""
    if version <= NEWEST_TESTED:
        return None
    if version.major > HIGHEST_KNOWN_MAJOR:
        return Untested(
            f"Kafka {version} is a major version above {HIGHEST_KNOWN_MAJOR}, which kraft-entrypoint "
            f"has never been tested with (newest tested: {NEWEST_TESTED}); its storage tool and "
            "configuration may differ",
            new_major=True,
        )
    return Untested(
        f"Kafka {version} is newer than the newest version kraft-entrypoint is tested with, {NEWEST_TESTED}",
        new_major=False,
    )


def config_names_release(version: KafkaVersion, listed: Iterable[KafkaVersion]) -> Optional[KafkaVersion]:
    """The release whose configuration-name list checks ``version``'s overrides: its own, else the
    newest listed one below it (None: every list is of a newer release)."""
    below = [release for release in listed if release <= version]
    return max(below) if below else None
