"""Settings + template -> the final properties and what the effects must do with them. Pure."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.settings import Override, Settings, name
from kraft_entrypoint.topology import Topology, derive_topology

SECRET_MARKERS = ("password", "secret", "jaas")
_VOTER = re.compile(r"(0|[1-9][0-9]{0,9})@[^@,]+:[0-9]{1,5}\Z")


@dataclass(frozen=True)
class Plan:
    settings: Settings
    topology: Topology
    properties: tuple[tuple[str, str], ...]
    node_id: int
    log_dirs: tuple[str, ...]
    voter_ids: frozenset[int]

    @property
    def server_argv(self) -> tuple[str, ...]:
        return (self.start_script, self.settings.config)

    @property
    def start_script(self) -> str:
        return posixpath.join(self.settings.kafka_home, "bin", "kafka-server-start.sh")

    def format_argv(self, cluster_id: str) -> tuple[str, ...]:
        # "--cluster-id=<id>" rather than two words: a valid id may start with '-'.
        return (
            posixpath.join(self.settings.kafka_home, "bin", "kafka-storage.sh"),
            "format",
            "--config",
            self.settings.config,
            f"--cluster-id={cluster_id}",
            "--ignore-formatted",
        )


def make_plan(settings: Settings, template: Iterable[tuple[str, str]]) -> Plan:
    """Template keys in order, derived values over them, then KAFKA_CFG_* overrides over those."""
    topology = derive_topology(settings)
    merged = dict(template)
    merged.update(topology.properties)
    merged.update((override.key, override.value) for override in settings.overrides)
    properties = tuple(merged.items())
    return Plan(
        settings=settings,
        topology=topology,
        properties=properties,
        node_id=_node_id(merged, settings.overrides),
        log_dirs=_log_dirs(merged, settings.overrides),
        voter_ids=_voter_ids(merged, settings.overrides),
    )


def is_secret(key: str) -> bool:
    return any(marker in key.lower() for marker in SECRET_MARKERS)


def shown_value(key: str, value: str) -> str:
    """A property value as logs may show it."""
    return "******" if is_secret(key) else value


def _invalid_override(key: str, overrides: tuple[Override, ...], expected: str) -> InvalidInput:
    override = next((override for override in reversed(overrides) if override.key == key), None)
    if override is None:
        return InvalidInput(f"{name('KRAFT_TEMPLATE')} sets {key} to something Kafka cannot use here; "
                            f"expected {expected}")
    return InvalidInput(f"{override.variable} sets {key} to {shown_value(key, override.value)!r}, which "
                        f"Kafka cannot use here; expected {expected}")


def _node_id(properties: dict[str, str], overrides: tuple[Override, ...]) -> int:
    value = properties["node.id"]
    if not re.fullmatch(r"0|[1-9][0-9]{0,9}", value) or int(value) > 2**31 - 1:
        raise _invalid_override("node.id", overrides, "a whole number, e.g. 0")
    return int(value)


def _log_dirs(properties: dict[str, str], overrides: tuple[Override, ...]) -> tuple[str, ...]:
    dirs = [part.strip() for part in properties["log.dirs"].split(",")]
    if not all(d.startswith("/") for d in dirs):
        raise _invalid_override("log.dirs", overrides, "absolute paths separated by commas")
    metadata_dir = properties.get("metadata.log.dir", "").strip()
    if metadata_dir and metadata_dir not in dirs:
        if not metadata_dir.startswith("/"):
            raise _invalid_override("metadata.log.dir", overrides, "an absolute path")
        dirs.append(metadata_dir)
    return tuple(dirs)


def _voter_ids(properties: dict[str, str], overrides: tuple[Override, ...]) -> frozenset[int]:
    voters = [part.strip() for part in properties["controller.quorum.voters"].split(",")]
    if not all(_VOTER.match(voter) for voter in voters):
        raise _invalid_override("controller.quorum.voters", overrides, "id@host:port,... e.g. 0@kafka-0:9093")
    return frozenset(int(voter.split("@", 1)[0]) for voter in voters)
