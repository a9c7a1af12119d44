"""The node's data directories: read what is there, refuse foreign storage, format new storage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Optional

from kraft_entrypoint import properties
from kraft_entrypoint.errors import FormatFailed, StorageRefused

META_FILE = "meta.properties"
QUORUM_STATE = os.path.join("__cluster_metadata-0", "quorum-state")


@dataclass(frozen=True)
class Meta:
    directory: str
    cluster_id: Optional[str]
    node_id: Optional[int]


@dataclass(frozen=True)
class QuorumState:
    path: str
    voter_ids: frozenset[int]


@dataclass(frozen=True)
class Storage:
    formatted: tuple[Meta, ...]
    unformatted: tuple[str, ...]
    quorum_states: tuple[QuorumState, ...]

    @property
    def cluster_id(self) -> Optional[str]:
        """The cluster id this node was formatted with, if it was."""
        return next((meta.cluster_id for meta in self.formatted if meta.cluster_id), None)


def inspect(log_dirs: Sequence[str]) -> Storage:
    """Read meta.properties and quorum-state of every log directory; change nothing."""
    formatted, unformatted, quorum_states = [], [], []
    for directory in log_dirs:
        meta_path = os.path.join(directory, META_FILE)
        if os.path.exists(meta_path):
            formatted.append(_read_meta(directory, meta_path))
        else:
            unformatted.append(directory)
        state_path = os.path.join(directory, QUORUM_STATE)
        if os.path.exists(state_path):
            quorum_states.append(_read_quorum_state(state_path))
    return Storage(tuple(formatted), tuple(unformatted), tuple(quorum_states))


def check(storage: Storage, *, node_id: int, voter_ids: frozenset[int], cluster_id: Optional[str],
          cluster_id_source: str) -> None:
    """Raise StorageRefused if the storage belongs to another cluster, node or voter set."""
    for meta in storage.formatted:
        if meta.node_id is not None and meta.node_id != node_id:
            raise StorageRefused(
                f"{meta.directory} was formatted for node.id={meta.node_id} but this pod is node "
                f"{node_id}; nothing was changed. Give each pod its own data directory (DATA_DIR or "
                f"SHARE_DIR/<ordinal>), or move {meta.directory} back to the pod of node {meta.node_id}"
            )
        if cluster_id is not None and meta.cluster_id is not None and meta.cluster_id != cluster_id:
            raise StorageRefused(
                f"{meta.directory} was formatted for cluster.id={meta.cluster_id} but the cluster id is "
                f"{cluster_id} (from {cluster_id_source}); nothing was changed. If the data is still "
                f"wanted set CLUSTER_ID={meta.cluster_id}; if it is obsolete, delete {meta.directory}"
            )
    for state in storage.quorum_states:
        if state.voter_ids and state.voter_ids != voter_ids:
            raise StorageRefused(
                f"{state.path} records the voters {_ids(state.voter_ids)} but controller.quorum.voters "
                f"lists {_ids(voter_ids)}; nothing was changed. Kafka 3.3 cannot change the voters of "
                f"an existing quorum: restore REPLICAS={len(state.voter_ids)}, and to add brokers "
                f"set CONTROLLER_REPLICAS={len(state.voter_ids)} and raise REPLICAS"
            )


def format_storage(argv: Sequence[str], env: Optional[Mapping[str, str]] = None) -> None:
    """Run ``kafka-storage.sh format``, its output going to our standard error (env None: ours)."""
    try:
        result = subprocess.run(list(argv), stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno(),
                                stderr=subprocess.STDOUT, check=False, env=env)
    except OSError as error:
        raise FormatFailed(f"cannot run {argv[0]}: {error.strerror}; check KAFKA_HOME") from None
    if result.returncode != 0:
        raise FormatFailed(f"{argv[0]} format exited with {result.returncode} (its output is above)")


def _read_meta(directory: str, path: str) -> Meta:
    try:
        values = dict(properties.read(path))
    except (OSError, UnicodeError, ValueError) as error:
        raise StorageRefused(f"cannot read {path} ({error}); nothing was changed") from None
    node = values.get("node.id", values.get("broker.id"))
    return Meta(directory, values.get("cluster.id"), int(node) if node and node.isdigit() else None)


def _read_quorum_state(path: str) -> QuorumState:
    try:
        with open(path, "rb") as source:
            state = json.load(source)
        voters = frozenset(int(voter["voterId"]) for voter in state.get("currentVoters") or ())
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise StorageRefused(f"cannot read {path} ({error}); nothing was changed") from None
    return QuorumState(path, voters)


def _ids(ids: frozenset[int]) -> str:
    return ",".join(str(i) for i in sorted(ids))
