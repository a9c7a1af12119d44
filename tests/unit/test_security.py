"""Listeners, TLS, SASL/PLAIN, ACLs and external access: derived properties with real
certificates (openssl, cert-manager's Secret layout), every invalid input, and no secret shown."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Optional

import jproperties
import pytest

from kraftlab import pki

from .support import Cli, Outcome, valid_env

FQDN = "kafka-{}.kafka-svc.kafka-kraft.svc.cluster.local"
PASSWORDS = {"kafka": "inter-Broker-pw-1", "admin": 'adm"in\\pw-2', "alice": "alice-pw-3"}


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> pki.Issued:
    """A CA and the pods' node certificate (wildcard, and the external hosts), made with openssl."""
    ca = pki.new_ca(tmp_path_factory.mktemp("ca"))
    return pki.node_certificate(ca, extra_dns=["*.example.com"])


@pytest.fixture
def secrets(tmp_path: Path, tls: pki.Issued) -> dict[str, str]:
    """TLS_DIR and SASL_USERS_DIR as Kubernetes mounts them (..data symlinks)."""
    return {
        "TLS_DIR": str(pki.write_tls_secret(tmp_path / "tls", tls)),
        "SASL_USERS_DIR": str(pki.write_users_secret(tmp_path / "users", PASSWORDS)),
    }


def _props(outcome: Outcome) -> dict[str, str]:
    assert outcome.exit_code == 0, outcome.log
    loaded = jproperties.Properties()
    loaded.load(outcome.stdout, "iso-8859-1")
    return {key: loaded[key].data for key in loaded}


def _run(cli: Cli, tmp_path: Path, template: Path, **changes: str) -> Outcome:
    return cli.run(["--dry-run"], valid_env(tmp_path, template, **changes))


def _key_body(tls: pki.Issued) -> str:
    """A stretch of the private key's base64 body, to grep outputs for."""
    lines = tls.key.read_text().splitlines()
    return lines[len(lines) // 2]


def test_tls_alone(
    cli: Cli, tmp_path: Path, template_path: Path, secrets: dict[str, str], tls: pki.Issued
) -> None:
    """TLS_DIR: SSL everywhere, client certificates required, the controller mutual TLS, PEM stores."""
    props = _props(_run(cli, tmp_path, template_path, TLS_DIR=secrets["TLS_DIR"]))
    config_dir = tmp_path / "config"
    assert props["listeners"] == "SSL://:9092,CONTROLLER://:9093"
    assert props["advertised.listeners"] == f"SSL://{FQDN.format(0)}:9092"
    assert props["inter.broker.listener.name"] == "SSL"
    assert props["listener.security.protocol.map"].startswith("CONTROLLER:SSL,PLAINTEXT:PLAINTEXT,SSL:SSL")
    assert props["ssl.keystore.type"] == "PEM"
    assert props["ssl.keystore.location"] == str(config_dir / "tls-keystore.pem")
    assert props["ssl.truststore.type"] == "PEM"
    assert props["ssl.truststore.location"] == str(Path(secrets["TLS_DIR"]) / "ca.crt")
    assert props["ssl.client.auth"] == "required"
    assert props["listener.name.controller.ssl.client.auth"] == "required"
    assert "sasl.enabled.mechanisms" not in props
    assert not config_dir.exists()  # a dry run writes no keystore


def test_tls_and_sasl_with_acls(
    cli: Cli, tmp_path: Path, template_path: Path, secrets: dict[str, str], tls: pki.Issued
) -> None:
    """SASL_SSL for clients, SSL for the controller; ACLs with brokers and controllers as super users."""
    outcome = _run(cli, tmp_path, template_path, **secrets, AUTHORIZATION="acl", SUPER_USERS="admin")
    props = _props(outcome)
    assert props["listeners"] == "SASL_SSL://:9092,CONTROLLER://:9093"
    assert props["inter.broker.listener.name"] == "SASL_SSL"
    assert props["ssl.client.auth"] == "none"
    assert props["sasl.enabled.mechanisms"] == "PLAIN"
    assert props["sasl.mechanism.inter.broker.protocol"] == "PLAIN"
    assert props["listener.name.sasl_ssl.plain.sasl.jaas.config"] == "******"
    assert "sasl.mechanism.controller.protocol" not in props  # the controller listener is SSL
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == f"User:kafka;User:{tls.principal};User:admin"
    for secret in (*PASSWORDS.values(), _key_body(tls)):
        assert secret not in outcome.log
        assert secret.encode() not in outcome.stdout


def test_node_subject_is_read_as_kafka_names_it(
    cli: Cli, tmp_path: Path, template_path: Path, tls: pki.Issued
) -> None:
    """A TLS-only cluster's super user is the node certificate's RFC 2253 subject, as openssl prints it."""
    secret = pki.write_tls_secret(tmp_path / "tls", tls)
    props = _props(_run(cli, tmp_path, template_path, TLS_DIR=str(secret), AUTHORIZATION="acl"))
    assert props["super.users"] == f"User:{tls.principal}"
    assert tls.principal.startswith("CN=")


def test_sasl_alone_warns_and_secures_the_controller(
    cli: Cli, tmp_path: Path, template_path: Path, secrets: dict[str, str]
) -> None:
    """SASL without TLS: SASL_PLAINTEXT listeners, controller PLAIN as the inter-broker user; a warning."""
    outcome = _run(cli, tmp_path, template_path, SASL_USERS_DIR=secrets["SASL_USERS_DIR"])
    props = _props(outcome)
    assert props["listeners"] == "SASL_PLAINTEXT://:9092,CONTROLLER://:9093"
    assert props["listener.security.protocol.map"].startswith("CONTROLLER:SASL_PLAINTEXT,")
    assert props["sasl.mechanism.controller.protocol"] == "PLAIN"
    assert props["listener.name.controller.sasl.enabled.mechanisms"] == "PLAIN"
    assert props["listener.name.controller.plain.sasl.jaas.config"] == "******"
    assert "in clear" in outcome.log


def test_users_dir_skips_kubernetes_hidden_entries(
    cli: Cli, tmp_path: Path, template_path: Path, secrets: dict[str, str]
) -> None:
    """..data and ..<timestamp> are not users; each visible file is one, read through its link."""
    outcome = _run(cli, tmp_path, template_path, SASL_USERS_DIR=secrets["SASL_USERS_DIR"])
    assert "SASL/PLAIN: 3 users" in outcome.log


EXTERNAL_CASES = [
    (
        "host-per-pod",
        {"EXTERNAL_HOST": "kafka-{ordinal}.example.com"},
        2,
        "EXTERNAL://kafka-2.example.com:9094",
        "EXTERNAL://:9094",
    ),
    (
        "nodeport-per-pod",
        {"EXTERNAL_HOST": "192.0.2.7", "EXTERNAL_PORT_BASE": "31090"},
        2,
        "EXTERNAL://192.0.2.7:31092",
        "EXTERNAL://:9094",
    ),
    (
        "hostport",
        {"EXTERNAL_HOST": "192.0.2.7", "EXTERNAL_PORT": "9095", "EXTERNAL_ADVERTISED_PORT": "19095"},
        1,
        "EXTERNAL://192.0.2.7:19095",
        "EXTERNAL://:9095",
    ),
    ("ipv6", {"EXTERNAL_HOST": "2001:db8::7"}, 0, "EXTERNAL://[2001:db8::7]:9094", "EXTERNAL://:9094"),
]


@pytest.mark.parametrize(
    ("changes", "ordinal", "advertised", "listener"),
    [case[1:] for case in EXTERNAL_CASES],
    ids=[case[0] for case in EXTERNAL_CASES],
)
def test_external_listener(
    changes: dict[str, str],
    ordinal: int,
    advertised: str,
    listener: str,
    cli: Cli,
    tmp_path: Path,
    template_path: Path,
) -> None:
    """Each pod advertises its own outside address; the broker listener stays the inter-broker one."""
    props = _props(_run(cli, tmp_path, template_path, HOSTNAME=f"kafka-{ordinal}", **changes))
    assert props["advertised.listeners"] == f"PLAINTEXT://{FQDN.format(ordinal)}:9092,{advertised}"
    assert listener in props["listeners"].split(",")
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert props["listener.security.protocol.map"].endswith(",EXTERNAL:PLAINTEXT")


def test_external_listener_carries_the_broker_protocol(
    cli: Cli, tmp_path: Path, template_path: Path, secrets: dict[str, str]
) -> None:
    """With TLS and SASL the EXTERNAL listener is SASL_SSL too, and accepts the same users."""
    props = _props(_run(cli, tmp_path, template_path, **secrets, EXTERNAL_HOST="kafka-{ordinal}.example.com"))
    assert props["listener.security.protocol.map"].endswith(",EXTERNAL:SASL_SSL")
    assert props["listener.name.external.plain.sasl.jaas.config"] == "******"


def _tls_variant(tmp_path: Path, tls: pki.Issued, variant: str) -> str:
    directory = tmp_path / "tls-variant"
    data = tls.tls_secret(pkcs1=variant == "pkcs1")
    if variant == "no-ca":
        del data["ca.crt"]
    elif variant == "not-pem":
        data["tls.crt"] = base64.b64encode(data["tls.crt"])
    elif variant == "encrypted":
        data["tls.key"] = pki.openssl("pkcs8", "-topk8", "-in", str(tls.key), "-passout", "pass:secret1")
    elif variant == "key-missing":
        del data["tls.key"]
    elif variant == "ca-not-cert":
        data["ca.crt"] = data["tls.key"]
    return str(pki.write_secret_volume(directory, data))


@pytest.mark.parametrize(
    ("variant", "words"),
    [
        ("pkcs1", "openssl pkcs8 -topk8"),
        ("no-ca", "ca.crt is missing"),
        ("not-pem", "is not PEM"),
        ("encrypted", "is encrypted"),
        ("key-missing", "tls.key is missing"),
        ("ca-not-cert", "ca.crt holds no CERTIFICATE"),
    ],
)
def test_bad_tls_secret_exits_2(
    variant: str, words: str, cli: Cli, tmp_path: Path, template_path: Path, tls: pki.Issued
) -> None:
    """Every TLS_DIR problem exits 2 naming TLS_DIR and what to do; no key material in the message."""
    outcome = _run(cli, tmp_path, template_path, TLS_DIR=_tls_variant(tmp_path, tls, variant))
    assert outcome.exit_code == 2, outcome.log
    assert "TLS_DIR" in outcome.log
    assert words in outcome.log
    assert _key_body(tls) not in outcome.log


def _users(tmp_path: Path, users: dict[str, str]) -> str:
    directory = tmp_path / "users-variant"
    directory.mkdir()
    for user, password in users.items():
        (directory / user).write_text(password)
    return str(directory)


INVALID: list[tuple[str, dict[str, str], Optional[dict[str, str]], str]] = [
    ("client-auth-bogus", {"TLS_CLIENT_AUTH": "always"}, None, "TLS_CLIENT_AUTH"),
    ("client-auth-without-tls", {"TLS_CLIENT_AUTH": "required"}, None, "TLS_CLIENT_AUTH"),
    (
        "inter-broker-user-missing",
        {"SASL_INTER_BROKER_USER": "broker"},
        {"kafka": "x1"},
        "SASL_INTER_BROKER_USER",
    ),
    ("default-inter-broker-user-missing", {}, {"admin": "x1"}, "SASL_INTER_BROKER_USER"),
    ("empty-password", {}, {"kafka": "x1", "admin": ""}, "SASL_USERS_DIR"),
    ("no-users", {}, {}, "SASL_USERS_DIR"),
    ("inter-broker-user-without-sasl", {"SASL_INTER_BROKER_USER": "kafka"}, None, "SASL_USERS_DIR"),
    ("acl-without-authentication", {"AUTHORIZATION": "acl"}, None, "AUTHORIZATION"),
    ("authorization-bogus", {"AUTHORIZATION": "on"}, None, "AUTHORIZATION"),
    ("super-users-without-acl", {"SUPER_USERS": "admin"}, None, "SUPER_USERS"),
    (
        "super-user-bad-name",
        {"SUPER_USERS": "ad min", "AUTHORIZATION": "acl"},
        {"kafka": "x1"},
        "SUPER_USERS",
    ),
    ("external-port-without-host", {"EXTERNAL_PORT": "9094"}, None, "EXTERNAL_HOST"),
    ("external-base-without-host", {"EXTERNAL_PORT_BASE": "31090"}, None, "EXTERNAL_HOST"),
    (
        "external-both-ports",
        {"EXTERNAL_HOST": "h.example", "EXTERNAL_ADVERTISED_PORT": "1", "EXTERNAL_PORT_BASE": "2"},
        None,
        "EXTERNAL_PORT_BASE",
    ),
    (
        "ordinal-in-port",
        {"EXTERNAL_HOST": "h.example", "EXTERNAL_ADVERTISED_PORT": "3109{ordinal}"},
        None,
        "{ordinal} only works in EXTERNAL_HOST",
    ),
    ("external-port-clash", {"EXTERNAL_HOST": "h.example", "EXTERNAL_PORT": "9093"}, None, "EXTERNAL_PORT"),
    (
        "external-base-overflow",
        {"EXTERNAL_HOST": "h.example", "EXTERNAL_PORT_BASE": "65535", "HOSTNAME": "kafka-2"},
        None,
        "EXTERNAL_PORT_BASE",
    ),
    ("external-host-unresolved", {"EXTERNAL_HOST": "$(HOST_IP)"}, None, "EXTERNAL_HOST"),
    ("external-host-bad", {"EXTERNAL_HOST": "kafka_{ordinal}.example.com"}, None, "EXTERNAL_HOST"),
    ("external-port-bogus", {"EXTERNAL_HOST": "h.example", "EXTERNAL_PORT": "http"}, None, "EXTERNAL_PORT"),
]


@pytest.mark.parametrize(
    ("changes", "users", "words"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_invalid_security_input_exits_2(
    changes: dict[str, str],
    users: Optional[dict[str, str]],
    words: str,
    cli: Cli,
    tmp_path: Path,
    template_path: Path,
) -> None:
    """Each bad or contradictory input exits 2 with a message naming the variable; nothing is printed."""
    if users is not None:
        changes = {**changes, "SASL_USERS_DIR": _users(tmp_path, users)}
    outcome = _run(cli, tmp_path, template_path, **changes)
    assert outcome.exit_code == 2, outcome.log
    assert words in outcome.log
    assert outcome.stdout == b""
    assert outcome.exception is None
