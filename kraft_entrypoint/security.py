"""Listener protocols and the security properties they need (TLS, SASL PLAIN/SCRAM, ACLs). Pure.

The effects (reading TLS_DIR and SASL_USERS_DIR, writing the keystore) live in credentials.py;
this module turns settings plus what those files said into properties.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from kraft_entrypoint.settings import Settings

CONTROLLER_LISTENER = "CONTROLLER"
EXTERNAL_LISTENER = "EXTERNAL"
STANDARD_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
PLAIN_LOGIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule"


@dataclass(frozen=True)
class Protocols:
    broker: str  # also the broker listener's name and the inter-broker listener
    controller: str

    @property
    def tls(self) -> bool:
        return self.broker.endswith("SSL")

    @property
    def sasl(self) -> bool:
        return self.broker.startswith("SASL_")


@dataclass(frozen=True)
class Credentials:
    """What the effects layer read from TLS_DIR and SASL_USERS_DIR (no key material)."""

    keystore: Optional[str] = None  # the derived key+chain PEM file
    truststore: Optional[str] = None  # TLS_DIR/ca.crt
    node_subject: Optional[str] = None  # tls.crt's subject as Kafka names it (RFC 2253)
    users: tuple[tuple[str, str], ...] = ()  # (user, password)


def protocols(settings: Settings) -> Protocols:
    tls, sasl = settings.security.tls_dir is not None, settings.security.sasl_users_dir is not None
    broker = {
        (False, False): "PLAINTEXT",
        (True, False): "SSL",
        (False, True): "SASL_PLAINTEXT",
        (True, True): "SASL_SSL",
    }[(tls, sasl)]
    controller = "SSL" if tls else "SASL_PLAINTEXT" if sasl else "PLAINTEXT"
    return Protocols(broker, controller)


def protocol_map(chosen: Protocols, external: bool) -> str:
    """listener.security.protocol.map: CONTROLLER, the four standard names, and EXTERNAL if used."""
    pairs = [(CONTROLLER_LISTENER, chosen.controller), *((name, name) for name in STANDARD_PROTOCOLS)]
    if external:
        pairs.append((EXTERNAL_LISTENER, chosen.broker))
    return ",".join(f"{name}:{protocol}" for name, protocol in pairs)


def properties(
    settings: Settings,
    chosen: Protocols,
    credentials: Credentials,
    client_listeners: Sequence[str],
    controller: bool,
) -> dict[str, str]:
    """The ssl.*, sasl.* and authorizer properties for this node.

    ``client_listeners`` are the broker-side listener names this node opens (none on a
    controller-only node); ``controller`` says whether it runs the controller listener.
    """
    derived: dict[str, str] = {}
    if chosen.tls:
        assert credentials.keystore is not None
        assert credentials.truststore is not None
        derived.update(
            {
                "ssl.keystore.type": "PEM",
                "ssl.keystore.location": credentials.keystore,
                "ssl.truststore.type": "PEM",
                "ssl.truststore.location": credentials.truststore,
                "ssl.client.auth": settings.security.tls_client_auth or "required",
                f"listener.name.{CONTROLLER_LISTENER.lower()}.ssl.client.auth": "required",
            }
        )
    if chosen.sasl:
        derived.update(_sasl(settings, chosen, credentials, client_listeners))
    if settings.security.authorization == "acl":
        derived.update(
            {
                "authorizer.class.name": AUTHORIZER,
                "allow.everyone.if.no.acl.found": "false",
                "super.users": ";".join(
                    f"User:{user}" for user in super_users(settings, chosen, credentials)
                ),
            }
        )
    return derived


def super_users(settings: Settings, chosen: Protocols, credentials: Credentials) -> tuple[str, ...]:
    """Brokers and controllers by the identities they use with each other, then SUPER_USERS."""
    users: list[str] = []
    if chosen.sasl:
        users.append(settings.security.sasl_inter_broker_user)
    if chosen.tls and credentials.node_subject:
        users.append(credentials.node_subject)
    users.extend(user for user in settings.security.super_users if user not in users)
    return tuple(users)


def is_scram(mechanism: str) -> bool:
    return mechanism.startswith("SCRAM-")


def _sasl(
    settings: Settings, chosen: Protocols, credentials: Credentials, client_listeners: Sequence[str]
) -> dict[str, str]:
    """SASL per listener: SASL_MECHANISM on the client listeners, PLAIN on a SASL controller one.

    With SCRAM the brokers check passwords against the credentials in the cluster's metadata, so
    their JAAS entry holds only this node's own login; the controller listener cannot read those
    (controllers serve that metadata), so without TLS it stays PLAIN with every user listed.
    """
    user = settings.security.sasl_inter_broker_user
    mechanism = settings.security.sasl_mechanism
    plain = _plain_jaas(user, credentials.users)
    client_jaas = _scram_jaas(user, credentials.users) if is_scram(mechanism) else plain
    derived = {
        "sasl.enabled.mechanisms": mechanism,
        "sasl.mechanism.inter.broker.protocol": mechanism,
    }
    for listener in client_listeners:
        derived[f"listener.name.{listener.lower()}.{mechanism.lower()}.sasl.jaas.config"] = client_jaas
    if chosen.controller.startswith("SASL_"):
        controller = CONTROLLER_LISTENER.lower()
        derived["sasl.mechanism.controller.protocol"] = "PLAIN"
        derived[f"listener.name.{controller}.sasl.enabled.mechanisms"] = "PLAIN"
        derived[f"listener.name.{controller}.plain.sasl.jaas.config"] = plain
    return derived


def _scram_jaas(inter_broker_user: str, users: tuple[tuple[str, str], ...]) -> str:
    """ScramLoginModule: this node's own login only; the users live in the cluster's metadata."""
    password = dict(users)[inter_broker_user]
    return f'{SCRAM_LOGIN} required username="{inter_broker_user}" password="{_quoted(password)}";'


def _plain_jaas(inter_broker_user: str, users: tuple[tuple[str, str], ...]) -> str:
    """PlainLoginModule: this node's own login (the inter-broker user) and every user it accepts."""
    passwords = dict(users)
    parts = [
        f"{PLAIN_LOGIN} required",
        f'username="{inter_broker_user}"',
        f'password="{_quoted(passwords[inter_broker_user])}"',
    ]
    parts.extend(f'user_{user}="{_quoted(password)}"' for user, password in users)
    return " ".join(parts) + ";"


def _quoted(text: str) -> str:
    """A JAAS double-quoted string (read by java.io.StreamTokenizer, which knows these escapes)."""
    return (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
