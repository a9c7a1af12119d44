"""The command lines of Kafka's tools, built from the plan and the version facts. Pure.

``kafka-storage.sh format`` (run by ``storage.format_storage``) and the ``kafka-metadata-quorum.sh``
controller commands an operator is told to run.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from kraft_entrypoint import cluster_id as cluster_ids
from kraft_entrypoint.cluster_id import is_node_id, kafka_directory_id_problem
from kraft_entrypoint.kafka_versions import Capabilities, no_dynamic, no_scram

MASK = "******"


@dataclass(frozen=True)
class InitialController:
    """One voter of a new dynamic quorum, as ``--initial-controllers`` takes it."""

    node_id: int
    host: str
    port: int
    directory_id: str

    def __str__(self) -> str:
        # Kafka's DynamicVoter.parse reads a host with ':' (IPv6) only between brackets.
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.node_id}@{host}:{self.port}:{self.directory_id}"


def format_argv(
    kafka_home: str,
    config: str,
    cluster_id: str,
    caps: Capabilities,
    initial_controllers: Optional[Sequence[InitialController]],
    joining: bool,
    scram: Optional[ScramUsers] = None,
) -> tuple[str, ...]:
    """The ``kafka-storage.sh format`` command line for this node.

    Static quorum (``initial_controllers`` None, ``joining`` False)::

        <home>/bin/kafka-storage.sh format --config <config> --cluster-id=<id> --ignore-formatted

    The id is one word (``--cluster-id=<id>``): a valid id may start with ``-``.
    Dynamic quorum (Kafka >= 3.9): ``joining`` False adds ``--initial-controllers <list>``
    (an initial controller: every one of them is formatted with the same list); ``joining`` True
    adds ``--no-initial-controllers`` (a controller added later, or a broker), whatever
    ``initial_controllers`` holds. ``scram`` (Kafka >= 3.5) adds one ``--add-scram`` per user,
    so the new cluster's metadata holds their SCRAM credentials before any broker starts.
    ValueError when the release lacks a flag, or the list is empty or not one Kafka would accept.
    """
    argv: tuple[str, ...] = (
        posixpath.join(kafka_home, "bin", "kafka-storage.sh"),
        "format",
        "--config",
        config,
        f"--cluster-id={cluster_id}",
        "--ignore-formatted",
    )
    if scram is not None:
        if not caps.add_scram:
            raise ValueError(no_scram(caps.version))
        argv += tuple(word for user in scram.arguments() for word in ("--add-scram", user))
    if initial_controllers is None and not joining:
        return argv
    if not caps.dynamic_quorum:
        raise ValueError(no_dynamic(caps.version))
    if joining:
        return (*argv, "--no-initial-controllers")
    return (*argv, "--initial-controllers", _controller_list(initial_controllers or ()))


@dataclass(frozen=True)
class ScramUsers:
    """The users ``format --add-scram`` writes: one mechanism, (name, password) pairs.

    Kafka's parsers (StorageTool.scala 3.5-3.8, metadata/storage/ScramParser.java 3.9+) split
    ``[name=..,password=..]`` on every ',' and drop (3.5-3.8) or strip '"'; the password is
    quoted so that '=' and ']' survive, and :func:`scram_password_problem` refuses the rest.
    """

    mechanism: str
    users: tuple[tuple[str, str], ...]

    def __repr__(self) -> str:  # never print a password
        return f"ScramUsers({self.mechanism!r}, {[user for user, _ in self.users]!r})"

    def masked(self) -> ScramUsers:
        return ScramUsers(self.mechanism, tuple((user, MASK) for user, _ in self.users))

    def arguments(self) -> tuple[str, ...]:
        for user, password in self.users:
            problem = scram_password_problem(password)
            if problem is not None:
                raise ValueError(f"the password of {user!r} {problem}")
        return tuple(
            f'{self.mechanism}=[name={user},password="{password}"]' for user, password in self.users
        )


def scram_password_problem(password: str) -> Optional[str]:
    """Why ``format --add-scram`` cannot carry this password unchanged, or None."""
    if "," in password or '"' in password:
        return "holds ',' or '\"', which kafka-storage.sh format --add-scram cannot carry"
    return None


def add_scram_user_command(
    kafka_home: str, bootstrap_server: str, mechanism: str, user: str
) -> tuple[str, ...]:
    """``kafka-configs.sh`` adding one user's SCRAM credential to a running cluster (password masked).

    The operator fills in the password and a ``--command-config`` with an admin's client settings.
    """
    return (
        posixpath.join(kafka_home, "bin", "kafka-configs.sh"),
        "--bootstrap-server",
        bootstrap_server,
        "--command-config",
        "<admin client.properties>",
        "--alter",
        "--add-config",
        f"{mechanism}=[password={MASK}]",
        "--entity-type",
        "users",
        "--entity-name",
        user,
    )


def _controller_list(controllers: Sequence[InitialController]) -> str:
    if not controllers:
        raise ValueError("--initial-controllers needs at least one controller")
    seen: set[int] = set()
    for controller in controllers:
        problem = _controller_problem(controller)
        if problem is None and controller.node_id in seen:
            problem = "its node id is listed twice"
        if problem is not None:
            raise ValueError(f"initial controller {controller!r}: {problem}")
        seen.add(controller.node_id)
    return ",".join(str(controller) for controller in controllers)


def _controller_problem(controller: InitialController) -> Optional[str]:
    if not is_node_id(controller.node_id):
        return "the node id is not a whole number from 0 to 2147483647"
    if not controller.host or re.search(r"[\s,@\[\]]", controller.host):
        return "the host is empty or holds a space, ',', '@' or a bracket"
    if isinstance(controller.port, bool) or not 1 <= controller.port <= 65535:
        return "the port is not from 1 to 65535"
    return kafka_directory_id_problem(controller.directory_id)




# --- kafka-metadata-quorum.sh --------------------------------------------------------------


def add_controller_command(kafka_home: str, config: str, bootstrap_controller: str) -> tuple[str, ...]:
    """``kafka-metadata-quorum.sh`` adding this controller to a dynamic quorum (Kafka >= 3.9).

    ``config`` is this controller's server.properties: the tool reads node.id, the controller
    listener and the metadata directory's directory.id from it (and its client settings), so it
    must run where that directory is formatted. ``bootstrap_controller`` is ``host:port[,...]``
    of running controllers.
    """
    return (
        posixpath.join(kafka_home, "bin", "kafka-metadata-quorum.sh"),
        "--bootstrap-controller",
        _bootstrap(bootstrap_controller),
        "--command-config",
        config,
        "add-controller",
    )


def remove_controller_command(
    kafka_home: str,
    bootstrap_controller: str,
    controller_id: int,
    controller_directory_id: str,
    command_config: Optional[str] = None,
) -> tuple[str, ...]:
    """``kafka-metadata-quorum.sh`` removing one voter (id and directory id) from a dynamic quorum.

    ``command_config`` carries client settings (TLS, SASL) when the controller listener needs
    them. The directory id is passed as one word, ``--controller-directory-id=<id>``, so that one
    starting with ``-`` is not read as an option.
    """
    if not is_node_id(controller_id):
        raise ValueError(f"controller id {controller_id!r} is not a whole number from 0 to 2147483647")
    problem = kafka_directory_id_problem(controller_directory_id)
    if problem is not None:
        raise ValueError(f"directory id {cluster_ids.shown(controller_directory_id)} is not valid: {problem}")
    config = ("--command-config", command_config) if command_config is not None else ()
    return (
        posixpath.join(kafka_home, "bin", "kafka-metadata-quorum.sh"),
        "--bootstrap-controller",
        _bootstrap(bootstrap_controller),
        *config,
        "remove-controller",
        "--controller-id",
        str(controller_id),
        f"--controller-directory-id={controller_directory_id}",
    )


def _bootstrap(value: str) -> str:
    if not value or value.startswith("-") or re.search(r"\s", value):
        raise ValueError(f"bootstrap controller {cluster_ids.shown(value)} is not host:port[,host:port...]")
    return value
