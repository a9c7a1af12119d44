"""Who this pod is in the cluster: node id, roles, listeners, the controller quorum. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from kraft_entrypoint.security import (
    CONTROLLER_LISTENER,
    EXTERNAL_LISTENER,
    Protocols,
    protocol_map,
    protocols,
)
from kraft_entrypoint.settings import Settings

#: listener.security.protocol.map of a plaintext cluster, unchanged since the first release.
SECURITY_PROTOCOL_MAP = (
    "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"
)


@dataclass(frozen=True)
class Controller:
    """A controller of the quorum this pod knows from its inputs."""

    node_id: int
    host: str
    port: int


@dataclass(frozen=True)
class Topology:
    node_id: int
    is_voter: bool  # a static voter, or an initial controller of a dynamic quorum
    is_controller: bool  # runs the controller role
    voter_ids: tuple[int, ...]  # the static voters, or the initial controllers
    initial_controllers: tuple[Controller, ...]  # of a dynamic quorum; () for a static one
    protocols: Protocols
    client_listeners: tuple[str, ...]  # broker-side listener names this node opens
    properties: dict[str, str]
    removed: tuple[str, ...]  # template keys that must not reach this node's config

    @property
    def roles(self) -> str:
        return self.properties["process.roles"]

    @property
    def is_broker(self) -> bool:
        """Runs the broker role (holds replicas, serves clients)."""
        return "broker" in self.roles.split(",")

    @property
    def joins_later(self) -> bool:
        """A controller of a dynamic quorum that is not an initial one: it is added as a voter later."""
        return self.is_controller and not self.is_voter


def pod_fqdn(settings: Settings, ordinal: int) -> str:
    """The DNS name a headless Service gives pod ``ordinal`` of this pod's StatefulSet."""
    domain = f"{settings.pod.namespace}.svc.{settings.pod.cluster_domain}"
    return f"{settings.pod.statefulset}-{ordinal}.{settings.pod.service}.{domain}"


def controller_fqdn(settings: Settings, ordinal: int) -> str:
    """The DNS name of controller ``ordinal``: this StatefulSet's pod, or the controller StatefulSet's."""
    if settings.quorum.controller_statefulset is None:
        return pod_fqdn(settings, ordinal)
    return (
        f"{settings.quorum.controller_statefulset}-{ordinal}.{settings.quorum.controller_service}.{settings.pod.namespace}"
        f".svc.{settings.pod.cluster_domain}"
    )


def own_names(settings: Settings) -> tuple[str, ...]:
    """The host names clients and peers dial this node by (a TLS certificate must cover them):
    its FQDN, and EXTERNAL_HOST with the ordinal put in on a node that runs a broker."""
    names: tuple[str, ...] = (pod_fqdn(settings, settings.pod.ordinal),)
    has_broker = not (settings.quorum.dedicated and settings.is_controller_pod)  # as derive_topology
    if settings.external is not None and has_broker:
        names += (settings.external.advertised(settings.pod.ordinal)[0],)
    return names


def derive_topology(settings: Settings) -> Topology:
    node_id = settings.node_id
    controllers = tuple(
        Controller(ordinal, controller_fqdn(settings, ordinal), settings.security.controller_port)
        for ordinal in range(settings.voter_count)
    )
    if settings.quorum.dedicated:
        is_controller = settings.is_controller_pod
        has_broker = not is_controller
    else:
        is_controller, has_broker = settings.pod.ordinal < settings.voter_count, True
    is_voter = is_controller and node_id < settings.voter_count
    chosen = protocols(settings)
    broker_listener = chosen.broker
    client_listeners: tuple[str, ...] = (broker_listener,) if has_broker else ()
    listeners = [f"{broker_listener}://:{settings.security.broker_port}"] if has_broker else []
    if is_controller:
        listeners.append(f"{CONTROLLER_LISTENER}://:{settings.security.controller_port}")
    own = pod_fqdn(settings, settings.pod.ordinal)
    advertised = [f"{broker_listener}://{own}:{settings.security.broker_port}"] if has_broker else []
    if is_controller and settings.quorum.dynamic:  # voters learn each other's endpoint from it
        advertised.append(f"{CONTROLLER_LISTENER}://{own}:{settings.security.controller_port}")
    external = settings.external if has_broker else None
    if external is not None:
        host, port = external.advertised(settings.pod.ordinal)
        client_listeners += (EXTERNAL_LISTENER,)
        listeners.append(f"{EXTERNAL_LISTENER}://:{external.port}")
        advertised.append(f"{EXTERNAL_LISTENER}://{_bracketed(host)}:{port}")

    properties = {"process.roles": _roles(is_controller, has_broker), "node.id": str(node_id)}
    removed: tuple[str, ...] = ()
    if settings.quorum.dynamic:
        properties["controller.quorum.bootstrap.servers"] = ",".join(
            f"{c.host}:{c.port}" for c in controllers
        )
        removed = ("controller.quorum.voters",)
    else:
        properties["controller.quorum.voters"] = ",".join(
            f"{c.node_id}@{c.host}:{c.port}" for c in controllers
        )
        removed = ("controller.quorum.bootstrap.servers",)
    properties["listeners"] = ",".join(listeners)
    if has_broker:
        properties["inter.broker.listener.name"] = broker_listener
    else:  # Kafka refuses an inter-broker listener on a controller-only node
        removed += ("inter.broker.listener.name",)
    if advertised:
        properties["advertised.listeners"] = ",".join(advertised)
    else:  # a static controller-only node must not advertise (Kafka 3.3 refuses it)
        removed += ("advertised.listeners",)
    properties["controller.listener.names"] = CONTROLLER_LISTENER
    plaintext = chosen == Protocols("PLAINTEXT", "PLAINTEXT") and external is None
    properties["listener.security.protocol.map"] = (
        SECURITY_PROTOCOL_MAP if plaintext else protocol_map(chosen, external is not None)
    )
    properties["log.dirs"] = settings.storage.data_dir
    return Topology(
        node_id=node_id,
        is_voter=is_voter,
        is_controller=is_controller,
        voter_ids=tuple(c.node_id for c in controllers),
        initial_controllers=controllers if settings.quorum.dynamic else (),
        protocols=chosen,
        client_listeners=client_listeners,
        properties=properties,
        removed=removed,
    )


def _roles(controller: bool, broker: bool) -> str:
    return ",".join(role for role, runs in (("broker", broker), ("controller", controller)) if runs)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host
