"""What a probe decides, with no I/O: whom to ask (from the generated config) and the verdict from
the answer (a metadata snapshot for a broker, the quorum's description for a controller-only pod).

The effect side (connecting, asking, printing one line) is :mod:`kraft_entrypoint.probe`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

KINDS = ("startup", "ready", "live")
_LISTENER = re.compile(r"(?P<name>[A-Za-z0-9_]+)://(?P<host>\[[0-9A-Fa-f:.]*\]|[^:]*):(?P<port>[0-9]{1,5})\Z")
_VOTER = re.compile(r"(?P<id>[0-9]+)@(?P<host>\[[0-9A-Fa-f:.]*\]|[^:]*):(?P<port>[0-9]{1,5})\Z")
_HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]*\]|[^:]*):(?P<port>[0-9]{1,5})\Z")
#: Shown instead of the rest when many partitions fail the same way.
_SHOWN_PARTITIONS = 3


class ProbeConfigError(ValueError):
    """The generated config does not say whom to ask (not written yet, or not ours)."""


@dataclass(frozen=True)
class Endpoint:
    """One listener of one node: where to connect and with which security protocol."""

    host: str
    port: int
    protocol: str  # PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL
    listener: str

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def sasl(self) -> bool:
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")


@dataclass(frozen=True)
class Target:
    """Whom a probe asks: this node's own listener; a controller-only pod also knows the quorum's
    other controllers (only the quorum's leader describes the quorum)."""

    node_id: int
    controller_only: bool
    endpoint: Endpoint
    sasl_mechanism: str
    quorum: tuple[Endpoint, ...] = ()


def target_of(properties: Mapping[str, str]) -> Target:
    """This node's probe target from its generated config; ProbeConfigError says what is missing."""
    roles = {role.strip() for role in properties.get("process.roles", "").split(",") if role.strip()}
    if not roles:
        raise ProbeConfigError("it has no process.roles (not a KRaft config)")
    node_id = _node_id(properties)
    protocols = _protocol_map(properties.get("listener.security.protocol.map", ""))
    if "broker" in roles:
        listener = properties.get("inter.broker.listener.name", "PLAINTEXT").strip()
        endpoint = _own_endpoint(properties, listener, protocols)
        mechanism = properties.get("sasl.mechanism.inter.broker.protocol", "PLAIN").strip()
        return Target(node_id, False, endpoint, mechanism or "PLAIN")
    names = [n.strip() for n in properties.get("controller.listener.names", "").split(",") if n.strip()]
    if not names:
        raise ProbeConfigError("a controller without controller.listener.names")
    quorum = _quorum_endpoints(properties, names[0], protocols)
    endpoint = (
        _listed(properties, "advertised.listeners", names[0], protocols)
        or dict(quorum).get(node_id)
        or _own_endpoint(properties, names[0], protocols)
    )
    mechanism = properties.get("sasl.mechanism.controller.protocol", "PLAIN").strip()
    others = tuple(e for number, e in quorum if number != node_id and e.address != endpoint.address)
    return Target(node_id, True, endpoint, mechanism or "PLAIN", others)


def _node_id(properties: Mapping[str, str]) -> int:
    text = properties.get("node.id", "").strip()
    if not text.isdigit():
        raise ProbeConfigError(f"node.id is {text!r}, not a node id")
    return int(text)


def _protocol_map(text: str) -> dict[str, str]:
    pairs = (item.split(":", 1) for item in text.split(",") if ":" in item)
    return {name.strip(): protocol.strip() for name, protocol in pairs}


def _protocol(listener: str, protocols: Mapping[str, str]) -> str:
    if listener in protocols:
        return protocols[listener]
    if listener in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"):
        return listener
    raise ProbeConfigError(f"listener {listener} has no entry in listener.security.protocol.map")


def _own_endpoint(properties: Mapping[str, str], listener: str, protocols: Mapping[str, str]) -> Endpoint:
    """The listener as advertised (the address clients dial); else as bound, on this host."""
    found = _listed(properties, "advertised.listeners", listener, protocols) or _listed(
        properties, "listeners", listener, protocols
    )
    if found is None:
        raise ProbeConfigError(f"listener {listener} is in neither advertised.listeners nor listeners")
    return found


def _listed(
    properties: Mapping[str, str], key: str, listener: str, protocols: Mapping[str, str]
) -> Optional[Endpoint]:
    for item in properties.get(key, "").split(","):
        match = _LISTENER.match(item.strip())
        if match and match["name"] == listener:
            host = match["host"].strip("[]")
            if host in ("", "0.0.0.0", "::"):  # noqa: S104  (bound to every address: ask this host)
                host = "localhost"
            return Endpoint(host, int(match["port"]), _protocol(listener, protocols), listener)
    return None


def _quorum_endpoints(
    properties: Mapping[str, str], listener: str, protocols: Mapping[str, str]
) -> list[tuple[int, Endpoint]]:
    """The controllers: (node id, endpoint) from controller.quorum.voters; -1 for bootstrap servers."""
    protocol = _protocol(listener, protocols)
    found: list[tuple[int, Endpoint]] = []
    for item in properties.get("controller.quorum.voters", "").split(","):
        match = _VOTER.match(item.strip())
        if match:
            endpoint = Endpoint(match["host"].strip("[]"), int(match["port"]), protocol, listener)
            found.append((int(match["id"]), endpoint))
    for item in properties.get("controller.quorum.bootstrap.servers", "").split(","):
        match = _HOST_PORT.match(item.strip())
        if match:
            found.append((-1, Endpoint(match["host"].strip("[]"), int(match["port"]), protocol, listener)))
    return found


@dataclass(frozen=True)
class Verdict:
    passed: bool
    line: str


@dataclass(frozen=True)
class PartitionState:
    topic: str
    partition: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


@dataclass(frozen=True)
class BrokerView:
    """What this broker's own metadata says: the live (registered, unfenced) brokers, the partitions."""

    brokers: frozenset[int]
    partitions: tuple[PartitionState, ...] = ()


@dataclass(frozen=True)
class ReplicaState:
    node_id: int
    log_end_offset: int


@dataclass(frozen=True)
class QuorumView:
    """The metadata quorum as its leader describes it (DescribeQuorum on __cluster_metadata-0)."""

    leader_id: int
    high_watermark: int
    voters: tuple[ReplicaState, ...]
    observers: tuple[ReplicaState, ...] = ()


def metadata_lag(node_id: int, quorum: QuorumView) -> Optional[int]:
    """How far this node's copy of the metadata log is behind the quorum's high watermark, as the
    leader last saw it fetch; None when the node is neither a voter nor an observer."""
    if quorum.leader_id == node_id:
        return 0
    replica = next((r for r in (*quorum.voters, *quorum.observers) if r.node_id == node_id), None)
    return None if replica is None else max(quorum.high_watermark - replica.log_end_offset, 0)


def broker_verdict(kind: str, node_id: int, view: BrokerView, quorum: Optional[QuorumView] = None) -> Verdict:
    """startup: registered and unfenced; ready: that, its metadata current (``quorum``: the leader's
    view, so a broker cut off from the controllers or just resumed is not judged by a stale
    copy), and in the ISR of every partition it holds."""
    if node_id not in view.brokers:
        shown = ", ".join(str(b) for b in sorted(view.brokers)) or "none"
        return Verdict(
            False,
            f"{kind}: broker {node_id} answers but is not a live broker in its metadata yet "
            f"(not registered, fenced or shutting down; live brokers: {shown})",
        )
    if kind == "startup":
        return Verdict(True, f"startup: broker {node_id} is registered and unfenced")
    if quorum is not None:
        lag = metadata_lag(node_id, quorum)
        if lag is None:
            return Verdict(
                False, f"ready: broker {node_id} is not fetching the metadata log (not in the quorum)"
            )
        if lag > 0:
            return Verdict(
                False,
                f"ready: broker {node_id}'s metadata is {lag} records behind the quorum's high watermark "
                f"{quorum.high_watermark} (leader {quorum.leader_id}); it is still catching up",
            )
    held = [p for p in view.partitions if node_id in p.replicas]
    behind = sorted((p for p in held if node_id not in p.isr), key=lambda p: (p.topic, p.partition))
    if behind:
        shown = ", ".join(f"{p.topic}-{p.partition}" for p in behind[:_SHOWN_PARTITIONS])
        more = f" and {len(behind) - _SHOWN_PARTITIONS} more" if len(behind) > _SHOWN_PARTITIONS else ""
        return Verdict(
            False,
            f"ready: broker {node_id} is out of the ISR of {len(behind)} of its {len(held)} partitions "
            f"({shown}{more}); it is still catching up",
        )
    return Verdict(True, f"ready: broker {node_id} is in the ISR of all its {len(held)} partitions")


def quorum_verdict(kind: str, node_id: int, view: QuorumView) -> Verdict:
    """startup: a voter or an observer; ready: a voter whose log has reached the high watermark."""
    voter = next((r for r in view.voters if r.node_id == node_id), None)
    observer = next((r for r in view.observers if r.node_id == node_id), None)
    if voter is None and observer is None:
        return Verdict(
            False,
            f"{kind}: controller {node_id} is not in the quorum yet (voters "
            f"{', '.join(str(r.node_id) for r in view.voters) or 'none'}, leader {view.leader_id})",
        )
    role = "voter" if voter is not None else "observer"
    if kind == "startup":
        return Verdict(True, f"startup: controller {node_id} is in the quorum as a {role}")
    if voter is None:
        return Verdict(False, f"ready: controller {node_id} is an observer, not a voter of the quorum")
    if view.leader_id == node_id:
        return Verdict(True, f"ready: controller {node_id} leads the quorum")
    lag = view.high_watermark - voter.log_end_offset
    if lag > 0:
        return Verdict(
            False,
            f"ready: controller {node_id} is {lag} records behind the quorum's high watermark "
            f"{view.high_watermark} (leader {view.leader_id}); it is still catching up",
        )
    return Verdict(True, f"ready: controller {node_id} is a voter caught up with leader {view.leader_id}")


def parse_timeout(text: Optional[str]) -> float:
    """PROBE_TIMEOUT / --timeout: seconds, more than 0 and at most 600."""
    value = (text or "").strip() or "5"
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= 600:  # also refuses nan
        raise ProbeConfigError(f"PROBE_TIMEOUT (--timeout) is {value!r}; give seconds, e.g. 5")
    return seconds
