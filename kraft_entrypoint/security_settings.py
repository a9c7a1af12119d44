"""The listener, security and external-access inputs (SPEC "Listeners, security and external
access"), validated against each other into frozen groups of ``Settings``. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from kraft_entrypoint import fields
from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.options import default, name

#: SASL_MECHANISM's values; SCRAM needs Kafka 3.5+ (kafka_versions' add_scram fact).
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-512", "SCRAM-SHA-256")
_EXTERNAL_ONLY = ("EXTERNAL_PORT", "EXTERNAL_ADVERTISED_PORT", "EXTERNAL_PORT_BASE")


@dataclass(frozen=True)
class Security:
    """Listeners and security."""

    broker_port: int
    controller_port: int
    tls_dir: Optional[str]
    tls_client_auth: Optional[str]  # required / requested / none; None without TLS
    sasl_users_dir: Optional[str]
    sasl_inter_broker_user: str
    authorization: str
    super_users: tuple[str, ...]
    sasl_mechanism: str = "PLAIN"  # PLAIN, SCRAM-SHA-512 or SCRAM-SHA-256; PLAIN without SASL


@dataclass(frozen=True)
class External:
    """External access: the EXTERNAL listener's container port, and what each pod advertises."""

    host: str  # may hold {ordinal}
    port: int
    advertised_port: Optional[int]
    port_base: Optional[int]

    def advertised(self, ordinal: int) -> tuple[str, int]:
        port = self.port_base + ordinal if self.port_base is not None else self.advertised_port or self.port
        return self.host.replace(fields.PLACEHOLDER, str(ordinal)), port


def parse_security(raw: Mapping[str, Optional[str]], broker_port: int, controller_port: int) -> Security:
    tls_dir = fields.path("TLS_DIR", raw["TLS_DIR"])
    sasl_users_dir = fields.path("SASL_USERS_DIR", raw["SASL_USERS_DIR"])
    client_auth = raw["TLS_CLIENT_AUTH"]
    if client_auth is not None:
        client_auth = fields.choice("TLS_CLIENT_AUTH", client_auth, ("required", "requested", "none"))
        if tls_dir is None:
            raise InvalidInput(
                f"{name('TLS_CLIENT_AUTH')} needs {name('TLS_DIR')}: client certificates "
                "only exist with TLS, e.g. TLS_DIR=/etc/kafka/tls"
            )
    elif tls_dir is not None:
        client_auth = "none" if sasl_users_dir else "required"
    inter_broker_user = raw["SASL_INTER_BROKER_USER"]
    if inter_broker_user is not None:
        if sasl_users_dir is None:
            raise InvalidInput(
                f"{name('SASL_INTER_BROKER_USER')} needs {name('SASL_USERS_DIR')}, the "
                "directory with one file per user, e.g. SASL_USERS_DIR=/etc/kafka/users"
            )
        fields.user_name("SASL_INTER_BROKER_USER", inter_broker_user)
    mechanism = raw["SASL_MECHANISM"]
    if mechanism is not None:
        if sasl_users_dir is None:
            raise InvalidInput(
                f"{name('SASL_MECHANISM')} needs {name('SASL_USERS_DIR')}, the users it "
                "authenticates, e.g. SASL_USERS_DIR=/etc/kafka/users SASL_MECHANISM=SCRAM-SHA-512"
            )
        mechanism = fields.choice("SASL_MECHANISM", mechanism, SASL_MECHANISMS)
    authorization = fields.choice("AUTHORIZATION", raw["AUTHORIZATION"] or "", ("acl", "off"))
    if authorization == "acl" and sasl_users_dir is None and client_auth in (None, "none"):
        raise InvalidInput(
            f"{name('AUTHORIZATION')}=acl with no way for clients to authenticate: ACLs on anonymous "
            "clients protect nothing; set SASL_USERS_DIR, or TLS_DIR with TLS_CLIENT_AUTH=required"
        )
    super_users: tuple[str, ...] = ()
    if raw["SUPER_USERS"] is not None:
        if authorization != "acl":
            raise InvalidInput(
                f"{name('SUPER_USERS')} only matters with AUTHORIZATION=acl; set both, "
                "e.g. AUTHORIZATION=acl SUPER_USERS=admin"
            )
        super_users = tuple(
            fields.user_name("SUPER_USERS", user.strip()) for user in raw["SUPER_USERS"].split(",")
        )
    user = inter_broker_user or default("SASL_INTER_BROKER_USER")
    return Security(
        broker_port,
        controller_port,
        tls_dir,
        client_auth,
        sasl_users_dir,
        user,
        authorization,
        super_users,
        mechanism or default("SASL_MECHANISM"),
    )


def parse_external(
    raw: Mapping[str, Optional[str]], ordinal: int, taken: tuple[int, int]
) -> Optional[External]:
    host = raw["EXTERNAL_HOST"]
    if host is None:
        for variable in _EXTERNAL_ONLY:
            if raw[variable] is not None:
                raise InvalidInput(
                    f"{name(variable)} is set but {name('EXTERNAL_HOST')} is not; set the host "
                    "outside clients use, e.g. EXTERNAL_HOST=kafka-{ordinal}.example.com"
                )
        return None
    fields.external_host(host, ordinal)
    port = fields.port("EXTERNAL_PORT", raw["EXTERNAL_PORT"] or default("EXTERNAL_PORT"))
    if port in taken:
        raise InvalidInput(
            f"{name('EXTERNAL_PORT')}={port} is already the broker or controller port; every "
            "listener needs its own port, e.g. EXTERNAL_PORT=9094"
        )
    advertised = raw["EXTERNAL_ADVERTISED_PORT"]
    base = raw["EXTERNAL_PORT_BASE"]
    if advertised is not None and base is not None:
        raise InvalidInput(
            f"{name('EXTERNAL_ADVERTISED_PORT')} and {name('EXTERNAL_PORT_BASE')} are both set; "
            "use one: a fixed port, or BASE+ordinal with one NodePort Service per pod"
        )
    port_base = None if base is None else fields.port("EXTERNAL_PORT_BASE", base)
    if port_base is not None and port_base + ordinal > 65535:
        raise InvalidInput(
            f"{name('EXTERNAL_PORT_BASE')}={port_base} plus the ordinal {ordinal} is not a port "
            "(at most 65535); lower it, e.g. EXTERNAL_PORT_BASE=30000"
        )
    advertised_port = None if advertised is None else fields.port("EXTERNAL_ADVERTISED_PORT", advertised)
    return External(host, port, advertised_port, port_base)
