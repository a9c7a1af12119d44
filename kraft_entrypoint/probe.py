"""``kraft-entrypoint probe startup|ready|live``: the Kubernetes exec probes.

Reads the same variables as a start and the config that start generated, connects to this pod's
own listener as a client of the pod would (TLS with the node's certificate, SASL as
SASL_INTER_BROKER_USER), asks, and prints one line: exit 0 passes, exit 1 fails. It writes
nothing. A hard deadline (PROBE_TIMEOUT) ends it with one line, whatever the network does.

The client library is kafka-python (pure Python, pinned in the ``probe`` extra), imported only
here, so a start never pays for it. Why not confluent-kafka (librdkafka): its Python API has no
DescribeQuorum, which a controller-only pod is judged by, and its requests cannot be built by
hand; kafka-python ships the protocol's message classes (DescribeQuorumRequest among them), one
wheel for every architecture and Python 3.9 (the image's Debian 11 Python), TLS, mutual TLS,
SASL PLAIN and SCRAM. Its high-level ``describe_cluster()`` fails against Kafka 3.3 (it reads
a DescribeCluster field that version lacks), so the probe sends Metadata, ApiVersions and
DescribeQuorum itself over one connection of the library's connection manager, to this node only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, Optional

import click

from kraft_entrypoint import files, installation, properties
from kraft_entrypoint.errors import EntrypointError
from kraft_entrypoint.options import OPTIONS
from kraft_entrypoint.plan import resolve_files
from kraft_entrypoint.probe_verdict import (
    KINDS,
    BrokerView,
    Endpoint,
    PartitionState,
    ProbeConfigError,
    QuorumView,
    ReplicaState,
    Target,
    Verdict,
    broker_verdict,
    metadata_lag,
    parse_timeout,
    quorum_verdict,
    target_of,
)
from kraft_entrypoint.settings import parse_settings

MAX_CONFIG_BYTES = 1024 * 1024
MAX_PASSWORD_BYTES = 64 * 1024
_METADATA_LOG = "__cluster_metadata"


class ProbeFailed(Exception):
    """The probe's answer is no; the message is the one line the kubelet shows."""


@dataclass(frozen=True)
class Security:
    """How to connect: the node's own certificate (TLS_DIR) and the inter-broker user (SASL)."""

    tls_dir: Optional[str]
    sasl_user: str
    sasl_password: Optional[str]


def run(kind: str, environ: Mapping[str, str], timeout: float) -> Verdict:
    """One probe: config -> target -> ask this node -> verdict. Raises ProbeFailed."""
    target, security = _read_target(environ)
    if kind == "live":
        with _Client(target.endpoint, target.sasl_mechanism, security, timeout) as client:
            client.connect()
        return Verdict(True, f"live: {target.endpoint.address} answers")
    if not target.controller_only:
        with _Client(target.endpoint, target.sasl_mechanism, security, timeout) as client:
            client.connect()
            # First the quorum (the broker forwards DescribeQuorum to the active controller), then
            # the broker's metadata: judged only once that copy is known to be current.
            quorum = client.current_quorum_view(target.node_id) if kind == "ready" else None
            view = client.broker_view()
        return broker_verdict(kind, target.node_id, view, quorum)
    return quorum_verdict(kind, target.node_id, _quorum_view(target, security, timeout))


def _read_target(environ: Mapping[str, str]) -> tuple[Target, Security]:
    values = {option.variable: environ.get(option.variable) for option in OPTIONS}
    try:
        settings = parse_settings(values, environ)
        caps = installation.read_capabilities(settings.files.kafka_home, settings.files.kafka_version)
    except EntrypointError as error:
        raise ProbeFailed(f"cannot probe: {error}") from None
    config = resolve_files(settings, caps).config
    try:
        data = files.read_regular(config, MAX_CONFIG_BYTES)
        if data is None:
            raise ProbeFailed(f"cannot probe: {config} (KRAFT_CONFIG) is not written yet: not started")
        target = target_of(dict(properties.parse(data)))
    except (OSError, ValueError, files.UnusableFile) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise ProbeFailed(f"cannot probe: {config} (KRAFT_CONFIG): {reason}") from None
    chosen = settings.security
    password = None
    if target.endpoint.sasl:
        password = _password(chosen.sasl_users_dir, chosen.sasl_inter_broker_user)
    if target.endpoint.tls and chosen.tls_dir is None:
        raise ProbeFailed(f"cannot probe: listener {target.endpoint.listener} is TLS but TLS_DIR is not set")
    return target, Security(chosen.tls_dir, chosen.sasl_inter_broker_user, password)


def _password(directory: Optional[str], user: str) -> str:
    if directory is None:
        raise ProbeFailed("cannot probe: the listener requires SASL but SASL_USERS_DIR is not set")
    path = os.path.join(directory, user)
    try:
        data = files.read_regular(path, MAX_PASSWORD_BYTES)
    except (OSError, files.UnusableFile) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise ProbeFailed(f"cannot probe: cannot read SASL_USERS_DIR/{user}: {reason}") from None
    if data is None:
        raise ProbeFailed(f"cannot probe: SASL_USERS_DIR has no file {user} (SASL_INTER_BROKER_USER)")
    return data.decode("utf-8", "replace").rstrip("\r\n")


def _quorum_view(target: Target, security: Security, timeout: float) -> QuorumView:
    """Only the quorum's leader describes it: ask this controller, then the others in turn."""
    reasons: list[str] = []
    endpoints = (target.endpoint, *target.quorum)
    deadline = time.monotonic() + timeout * 0.9
    for position, endpoint in enumerate(endpoints):
        # Its own controller may take all (if it hangs, the probe fails anyway); each other one
        # gets its share of what is left, so a hung one costs only that share.
        left = deadline - time.monotonic()
        share = max(left if position == 0 else left / (len(endpoints) - position), 0.1)
        with _Client(endpoint, target.sasl_mechanism, security, share) as client:
            try:
                return client.quorum_view()
            except _NotLeader:
                reasons.append(f"{endpoint.address} is not the leader")
            except ProbeFailed as error:
                if endpoint == target.endpoint:
                    raise
                reasons.append(str(error))
    raise ProbeFailed(f"no controller answered as the quorum's leader ({'; '.join(reasons)})")


class _NotLeader(Exception):
    pass


class _Client:
    """One connection to one listener through kafka-python's connection manager (no bootstrap,
    no metadata refresh loop, no other node)."""

    def __init__(self, endpoint: Endpoint, mechanism: str, security: Security, timeout: float) -> None:
        from kafka.net.manager import KafkaConnectionManager
        from kafka.net.selector import NetworkSelector

        self.endpoint = endpoint
        self.sasl_user = security.sasl_user
        where = endpoint.address
        self.timeout_ms = int(timeout * 1000)
        config: dict[str, Any] = {
            "bootstrap_servers": f"[{endpoint.host}]:{endpoint.port}" if ":" in endpoint.host else where,
            "client_id": "kraft-entrypoint-probe",
            "request_timeout_ms": self.timeout_ms,
            "socket_connection_setup_timeout_ms": self.timeout_ms,
            "socket_connection_setup_timeout_max_ms": self.timeout_ms,
            "security_protocol": endpoint.protocol,
        }
        if endpoint.tls and security.tls_dir is not None:
            config.update(
                ssl_cafile=os.path.join(security.tls_dir, "ca.crt"),
                ssl_certfile=os.path.join(security.tls_dir, "tls.crt"),
                ssl_keyfile=os.path.join(security.tls_dir, "tls.key"),
            )
        if endpoint.sasl:
            config.update(
                sasl_mechanism=mechanism,
                sasl_plain_username=security.sasl_user,
                sasl_plain_password=security.sasl_password,
            )
        self._net = NetworkSelector(client_id="kraft-entrypoint-probe")
        self._manager = KafkaConnectionManager(self._net, **config)
        self._conn: Any = None

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):  # closing after the answer: nothing left to report
            self._manager.close()

    def connect(self) -> None:
        """Connect, ApiVersions (and SASL): answers the ``live`` probe on its own."""
        try:
            self._run(self._connect())
        except ProbeFailed as error:
            if self.endpoint.sasl and str(error).endswith("socket disconnected"):
                raise ProbeFailed(
                    f"{error} while authenticating as {self.sasl_user} (SASL_INTER_BROKER_USER): "
                    "the broker closes the connection on a wrong password"
                ) from None
            raise

    async def _connect(self) -> None:
        node = self._manager.cluster.bootstrap_brokers()[0]
        self._conn = self._manager.get_connection(
            node.node_id, timeout_ms=self.timeout_ms, pop_on_close=False, refresh_metadata_on_err=False
        )
        await self._conn

    def _request(self, request: Any, timeout_ms: Optional[int] = None) -> Any:
        async def ask() -> Any:
            if self._conn is None:
                await self._connect()
            return await self._conn.send_request(request, request_timeout_ms=timeout_ms or self.timeout_ms)

        return self._run(ask())

    def _run(self, coroutine: Any) -> Any:
        import kafka.errors

        async def wrapped() -> Any:
            return await coroutine

        try:
            return self._manager.run(lambda: wrapped())
        except kafka.errors.KafkaError as error:
            raise ProbeFailed(f"{self._where}: {_describe(error)}") from None
        except OSError as error:
            raise ProbeFailed(f"{self._where}: {error.strerror or error}") from None

    @property
    def _where(self) -> str:
        return f"{self.endpoint.address} ({self.endpoint.listener})"

    def broker_view(self) -> BrokerView:
        from kafka.protocol.metadata import MetadataRequest

        response = self._request(MetadataRequest(topics=None, allow_auto_topic_creation=False))
        partitions = tuple(
            PartitionState(topic.name, p.partition_index, tuple(p.replica_nodes), tuple(p.isr_nodes))
            for topic in response.topics
            for p in topic.partitions
        )
        return BrokerView(frozenset(b.node_id for b in response.brokers), partitions)

    def current_quorum_view(self, node_id: int, attempts: int = 4, pause: float = 0.25) -> QuorumView:
        """The quorum's view, asked again for a moment while it shows this node's metadata behind
        (a healthy broker's copy trails the high watermark only for the instant of a fetch)."""
        # Half the time at most: a broker cut off from the controllers holds the forwarded
        # request; the probe then still has time to say so.
        budget = self.timeout_ms // 2
        try:
            view = self.quorum_view(budget)
        except ProbeFailed as error:
            raise ProbeFailed(f"the quorum did not answer through broker {node_id}: {error}") from None
        for _ in range(attempts - 1):
            lag = metadata_lag(node_id, view)
            if lag is not None and lag == 0:
                break
            time.sleep(pause)
            view = self.quorum_view(budget)
        return view

    def quorum_view(self, timeout_ms: Optional[int] = None) -> QuorumView:
        import kafka.errors
        from kafka.protocol.admin import DescribeQuorumRequest

        topic_data = DescribeQuorumRequest.TopicData
        first = topic_data.PartitionData(partition_index=0)
        request = DescribeQuorumRequest(topics=[topic_data(topic_name=_METADATA_LOG, partitions=[first])])
        response = self._request(request, timeout_ms)
        if response.error_code:
            raise ProbeFailed(f"DescribeQuorum: {_describe(kafka.errors.for_code(response.error_code)())}")
        partition = response.topics[0].partitions[0]
        if partition.error_code == kafka.errors.NotLeaderForPartitionError.errno:
            raise _NotLeader()
        if partition.error_code:
            raise ProbeFailed(f"DescribeQuorum: {_describe(kafka.errors.for_code(partition.error_code)())}")
        return QuorumView(
            partition.leader_id,
            partition.high_watermark,
            tuple(ReplicaState(r.replica_id, r.log_end_offset) for r in partition.current_voters),
            tuple(ReplicaState(r.replica_id, r.log_end_offset) for r in partition.observers),
        )


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    name = type(error).__name__
    if not text or name in text:
        return text or name
    return f"{name}: {text}"


def _age() -> float:
    """Seconds since this process started (Linux /proc; 0 where that cannot be read)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat, open("/proc/uptime", encoding="ascii") as up:
            started_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
            uptime = float(up.read().split()[0])
        return max(uptime - started_ticks / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError):
        return 0.0


def _deadline(kind: str, remaining: float, timeout: float) -> None:
    """Whatever the library or the network does, the probe answers within ``timeout`` of its start."""

    def expired(_signum: int, _frame: object) -> None:
        _finish(Verdict(False, f"{kind}: no answer within {timeout:g}s (PROBE_TIMEOUT)"))

    signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, remaining)


def _finish(verdict: Verdict) -> NoReturn:
    """Print the one line and leave at once (no library thread or socket can delay the exit)."""
    sys.stdout.write(verdict.line.replace("\n", " ") + "\n")
    sys.stdout.flush()
    os._exit(0 if verdict.passed else 1)


_TIMEOUT = next(option for option in OPTIONS if option.variable == "PROBE_TIMEOUT")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("kind", type=click.Choice(KINDS))
@click.option(
    _TIMEOUT.flag,
    "timeout_text",
    envvar=_TIMEOUT.variable,
    show_envvar=True,
    metavar="SECONDS",
    help=f"{_TIMEOUT.help}  [default: {_TIMEOUT.default}]",
)
def command(kind: str, timeout_text: Optional[str]) -> None:
    """Probe this pod's own Kafka node: startup (registered), ready (in every ISR), live (answers).

    Exit 0 passes, exit 1 fails with one line saying why. Reads the start's variables and KRAFT_CONFIG.
    """
    try:
        timeout = parse_timeout(timeout_text or _TIMEOUT.default)
    except ProbeConfigError as error:
        _finish(Verdict(False, f"{kind}: {error}"))
    remaining = max(timeout - _age(), 0.1)  # the kubelet counts the interpreter's start too
    _deadline(kind, remaining, timeout)
    try:
        verdict = run(kind, os.environ, remaining)
    except ProbeFailed as error:
        verdict = Verdict(False, f"{kind}: {error}")
    except ProbeConfigError as error:  # a config that is not ours
        verdict = Verdict(False, f"{kind}: cannot probe: {error}")
    _finish(verdict)


def main(args: Sequence[str]) -> NoReturn:
    """``probe ...``: click's own usage errors become one line and exit 1, like every other failure."""
    for logger in ("kafka", "kraft_entrypoint"):  # the probe says one line, itself
        logging.getLogger(logger).disabled = True
    try:
        command.main(list(args), prog_name="kraft-entrypoint probe", standalone_mode=False)
    except click.ClickException as error:
        _finish(Verdict(False, f"probe: {error.format_message()}"))
    except click.exceptions.Abort:
        _finish(Verdict(False, "probe: interrupted"))
    sys.exit(0)  # --help
