"""Placeholder of the version table (replaced by the full module on its branch)."""

from __future__ import annotations

import base64
import hashlib
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True, order=True)
class KafkaVersion:
    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


class UnsupportedVersion(ValueError):
    pass


@dataclass(frozen=True)
class Capabilities:
    version: KafkaVersion
    template_path: str
    dynamic_quorum: bool
    auto_join: bool


@dataclass(frozen=True)
class InitialController:
    node_id: int
    host: str
    port: int
    directory_id: str


def capabilities(version: KafkaVersion) -> Capabilities:
    if version < KafkaVersion(3, 3, 0):
        raise UnsupportedVersion(f"Kafka {version} has no production KRaft; use 3.3 or newer")
    return Capabilities(
        version,
        "config/server.properties" if version.major >= 4 else "config/kraft/server.properties",
        version >= KafkaVersion(3, 9, 0),
        version >= KafkaVersion(4, 2, 0),
    )


def format_argv(
    kafka_home: str,
    config: str,
    cluster_id: str,
    caps: Capabilities,
    initial_controllers: Optional[Sequence[InitialController]],
    joining: bool,
) -> tuple[str, ...]:
    argv = (
        posixpath.join(kafka_home, "bin", "kafka-storage.sh"),
        "format",
        "--config",
        config,
        f"--cluster-id={cluster_id}",
        "--ignore-formatted",
    )
    if initial_controllers:
        return (
            *argv,
            "--initial-controllers",
            ",".join(f"{c.node_id}@{c.host}:{c.port}:{c.directory_id}" for c in initial_controllers),
        )
    if joining:
        return (*argv, "--no-initial-controllers")
    return argv


def directory_id(cluster_id: str, node_id: int) -> str:
    digest = hashlib.sha256(f"kraft-entrypoint directory.id {cluster_id} {node_id}".encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def add_controller_command(kafka_home: str, config: str, bootstrap_controller: str) -> tuple[str, ...]:
    return (
        posixpath.join(kafka_home, "bin", "kafka-metadata-quorum.sh"),
        "--bootstrap-controller",
        bootstrap_controller,
        "--command-config",
        config,
        "add-controller",
    )
