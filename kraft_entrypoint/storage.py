"""The node's data directories: read what is there, refuse foreign storage, format new storage."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Optional

from kraft_entrypoint import cluster_id, files, properties
from kraft_entrypoint.errors import FormatFailed, Interrupted, InvalidInput, StorageRefused

META_FILE = "meta.properties"
QUORUM_STATE = os.path.join("__cluster_metadata-0", "quorum-state")
MAX_META_BYTES = 64 * 1024
MAX_QUORUM_STATE_BYTES = 1024 * 1024
#: Beside meta.properties: the users the format wrote with --add-scram, one "<mechanism> <name>" a line.
SCRAM_RECORD = "kraft-entrypoint-scram-users"
MASK = b"******"
_PASSWORD_FIELD = re.compile(rb'(password=)(?!"?\*{6})[^,\]\s]*')
#: How long a format child may take to exit after the stop signal is passed on before it is killed.
FORMAT_STOP_GRACE = 0.7


@dataclass(frozen=True)
class Meta:
    directory: str
    cluster_id: str
    node_id: int
    directory_id: Optional[str] = None  # written by Kafka 3.7+ and by a dynamic-quorum format


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
        return next((meta.cluster_id for meta in self.formatted), None)


def inspect(log_dirs: Sequence[str], source: str) -> Storage:
    """Read meta.properties and quorum-state of every log directory; change nothing.

    ``source`` names the input the directories come from, for the message when one is a file.
    """
    formatted, unformatted, quorum_states = [], [], []
    for directory in log_dirs:
        if os.path.lexists(directory) and not os.path.isdir(directory):
            raise InvalidInput(
                f"the log directory {directory} (from {source}) exists but is not a directory; "
                "remove it or point the log directory elsewhere, e.g. DATA_DIR=/var/lib/kafka/data"
            )
        meta_path = os.path.join(directory, META_FILE)
        meta = _read_meta(directory, meta_path)
        if meta is None:
            unformatted.append(directory)
        else:
            formatted.append(meta)
        state = _read_quorum_state(os.path.join(directory, QUORUM_STATE))
        if state is not None:
            quorum_states.append(state)
    return Storage(tuple(formatted), tuple(unformatted), tuple(quorum_states))


def check(
    storage: Storage,
    *,
    node_id: int,
    voter_ids: frozenset[int],
    cluster_id: Optional[str],
    cluster_id_source: str,
    dynamic: bool = False,
) -> None:
    """Raise StorageRefused if the storage belongs to another cluster, node or voter set.

    ``dynamic``: the quorum is configured dynamic, which storage formatted for a static quorum
    (quorum-state with currentVoters, or meta.properties older than directory ids) cannot join.
    """
    if dynamic:
        _check_dynamic(storage)
    for meta in storage.formatted:
        if meta.node_id != node_id:
            raise StorageRefused(
                f"{meta.directory} was formatted for node.id={meta.node_id} but this pod is node "
                f"{node_id}; nothing was changed. Give each pod its own data directory (DATA_DIR or "
                f"SHARE_DIR/<ordinal>), or move {meta.directory} back to the pod of node {meta.node_id}"
            )
        if cluster_id is not None and meta.cluster_id != cluster_id:
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


def _check_dynamic(storage: Storage) -> None:
    static = [state.path for state in storage.quorum_states if state.voter_ids]
    static += [
        os.path.join(meta.directory, META_FILE) for meta in storage.formatted if meta.directory_id is None
    ]
    if static:
        raise StorageRefused(
            f"QUORUM=dynamic but {static[0]} was written for a static quorum (controller.quorum.voters); "
            "nothing was changed. A dynamic quorum is for new clusters: keep QUORUM=static for this one"
        )


def format_storage(
    argv: Sequence[str], env: Optional[Mapping[str, str]] = None, secrets: Sequence[str] = ()
) -> None:
    """Run ``kafka-storage.sh format``, its output going to our standard error.

    ``secrets`` (the SCRAM passwords its command line carries) are masked in that output: the
    tool echoes a malformed --add-scram argument. A stop signal that reaches us meanwhile is
    passed on to the format's process group, which gets FORMAT_STOP_GRACE seconds to exit before
    it is killed; then the stop goes on.
    """
    try:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if secrets else sys.stderr.fileno(),
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    except OSError as error:
        raise FormatFailed(f"cannot run {argv[0]}: {error.strerror}; check KAFKA_HOME") from None
    try:
        if process.stdout is not None:
            _relay_masked(process.stdout, secrets)
        returncode = process.wait()
    except Interrupted as stop:
        _stop_group(process, stop.signum)
        raise
    if returncode != 0:
        raise FormatFailed(f"{argv[0]} format exited with {returncode} (its output is above)")


def _relay_masked(output: IO[bytes], secrets: Sequence[str]) -> None:
    """Copy the format's output to our standard error line by line, every secret as ******."""
    masks = sorted({secret.encode() for secret in secrets if secret}, key=len, reverse=True)
    for line in output:
        for secret in masks:
            line = line.replace(secret, MASK)
        sys.stderr.buffer.write(_PASSWORD_FIELD.sub(rb"\1" + MASK, line))
        sys.stderr.buffer.flush()


def scram_record(storage: Storage) -> Optional[frozenset[tuple[str, str]]]:
    """(mechanism, user) pairs the format wrote with --add-scram, by the record beside
    meta.properties; None when no formatted directory has one (formatted without SCRAM, or
    before the entrypoint kept the record) or it cannot be read: then no user is known."""
    found: Optional[set[tuple[str, str]]] = None
    for meta in storage.formatted:
        try:
            data = files.read_regular(os.path.join(meta.directory, SCRAM_RECORD), MAX_META_BYTES)
        except (OSError, files.UnusableFile):
            continue
        if data is None:
            continue
        found = found or set()
        for line in data.decode("utf-8", "replace").splitlines():
            words = line.split()
            if len(words) == 2 and not line.startswith("#"):
                found.add((words[0], words[1]))
    return None if found is None else frozenset(found)


def record_scram_users(directories: Sequence[str], mechanism: str, users: Sequence[str]) -> None:
    """Before the format: write the user NAMES it adds (never a password) beside where
    meta.properties will be, atomically. Written first, so formatted storage always has it (a
    failed format leaves the directory unformatted, and the next start rewrites it). Kafka reads
    only subdirectories of a log directory as partitions, so a file there is left alone."""
    text = "# users kafka-storage.sh format --add-scram wrote into this cluster's metadata (names only)\n"
    text += "".join(f"{mechanism} {user}\n" for user in users)
    for directory in directories:
        try:
            os.makedirs(directory, exist_ok=True)
            files.write_atomic(os.path.join(directory, SCRAM_RECORD), text.encode(), mode=0o644)
        except OSError as error:
            raise FormatFailed(
                f"cannot write {os.path.join(directory, SCRAM_RECORD)} before the format: {error.strerror}"
            ) from None


def _stop_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with files.signals_deferred():
        try:
            os.killpg(process.pid, signum)
            process.wait(FORMAT_STOP_GRACE)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            process.wait()


def _read_meta(directory: str, path: str) -> Optional[Meta]:
    """The node's meta.properties if Kafka would accept it, None if absent; otherwise refuse."""
    try:
        data = files.read_regular(path, MAX_META_BYTES)
        if data is None:
            return None
        values = dict(properties.parse(data))
    except (OSError, ValueError, files.UnusableFile) as error:
        raise StorageRefused(f"cannot read {path} ({_reason(error)}); nothing was changed") from None
    problem = _meta_problem(values)
    if problem is not None:
        raise StorageRefused(
            f"{path} is not a meta.properties Kafka would accept: {problem}; nothing was changed. "
            "It is never taken as formatted: restore it from a backup, or delete the directory's "
            "contents if the data is obsolete, and the next start formats it"
        )
    return Meta(directory, values["cluster.id"], int(values["node.id"]), values.get("directory.id"))


def _meta_problem(values: Mapping[str, str]) -> Optional[str]:
    if not values:
        return "it is empty"
    if values.get("version") != "1":
        return f"version is {values.get('version', 'missing')!r}, KRaft storage has version=1"
    if "cluster.id" not in values:
        return "cluster.id is missing"
    problem = cluster_id.problem_with(values["cluster.id"])
    if problem is not None:
        return f"cluster.id {cluster_id.shown(values['cluster.id'])} is not a cluster id ({problem})"
    node = values.get("node.id")
    if node is None:
        return "node.id is missing"
    if not re.fullmatch(r"0|[1-9][0-9]{0,9}", node) or int(node) > 2**31 - 1:
        return f"node.id {cluster_id.shown(node)} is not a whole number"
    return None


def _read_quorum_state(path: str) -> Optional[QuorumState]:
    try:
        data = files.read_regular(path, MAX_QUORUM_STATE_BYTES)
        if data is None:
            return None
        state = json.loads(data)
        voters = frozenset(int(voter["voterId"]) for voter in state.get("currentVoters") or ())
    except RecursionError:
        raise StorageRefused(
            f"cannot read {path} (its JSON is nested too deeply); nothing was changed"
        ) from None
    except (OSError, ValueError, TypeError, KeyError, AttributeError, files.UnusableFile) as error:
        raise StorageRefused(f"cannot read {path} ({_reason(error)}); nothing was changed") from None
    return QuorumState(path, voters)


def _reason(error: Exception) -> str:
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error)


def _ids(ids: frozenset[int]) -> str:
    return ",".join(str(i) for i in sorted(ids))
