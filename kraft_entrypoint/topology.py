"""Who this pod is in the cluster: node id, roles, listeners, quorum voters. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from kraft_entrypoint.settings import Settings

CONTROLLER_LISTENER = "CONTROLLER"
BROKER_LISTENER = "PLAINTEXT"
SECURITY_PROTOCOL_MAP = (
    "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"
)


@dataclass(frozen=True)
class Topology:
    node_id: int
    is_voter: bool
    voter_ids: tuple[int, ...]
    properties: dict[str, str]

    @property
    def roles(self) -> str:
        return self.properties["process.roles"]


def pod_fqdn(settings: Settings, ordinal: int) -> str:
    """The DNS name a headless Service gives pod ``ordinal`` of the StatefulSet."""
    return (
        f"{settings.statefulset}-{ordinal}.{settings.service}.{settings.namespace}"
        f".svc.{settings.cluster_domain}"
    )


def derive_topology(settings: Settings) -> Topology:
    node_id = settings.ordinal
    voter_ids = tuple(range(settings.voter_count))
    is_voter = node_id < settings.voter_count
    broker_listener = f"{BROKER_LISTENER}://:{settings.broker_port}"
    controller_listener = f"{CONTROLLER_LISTENER}://:{settings.controller_port}"
    voters = ",".join(
        f"{voter}@{pod_fqdn(settings, voter)}:{settings.controller_port}" for voter in voter_ids
    )
    properties = {
        "process.roles": "broker,controller" if is_voter else "broker",
        "node.id": str(node_id),
        "controller.quorum.voters": voters,
        "listeners": f"{broker_listener},{controller_listener}" if is_voter else broker_listener,
        "inter.broker.listener.name": BROKER_LISTENER,
        "advertised.listeners": f"{BROKER_LISTENER}://{pod_fqdn(settings, node_id)}:{settings.broker_port}",
        "controller.listener.names": CONTROLLER_LISTENER,
        "listener.security.protocol.map": SECURITY_PROTOCOL_MAP,
        "log.dirs": settings.data_dir,
    }
    return Topology(node_id=node_id, is_voter=is_voter, voter_ids=voter_ids, properties=properties)
