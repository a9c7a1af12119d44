"""SASL_MECHANISM=SCRAM-*: properties per listener, the format's --add-scram, masking, and refusals."""

from __future__ import annotations

from pathlib import Path

import jproperties
import pytest

from kraft_entrypoint import commands
from kraft_entrypoint.kafka_versions import KafkaVersion, capabilities
from kraftlab import pki

from .support import Cli, Outcome, valid_env

PASSWORDS = {"kafka": "inter-Broker-pw-1", "admin": 'adm"in\\pw-2', "alice": "alice-pw-3"}
SCRAM_PASSWORDS = {"kafka": "inter-Broker-pw-1", "admin": "adm=in]pw-2", "alice": "alice pw 3"}
CID = "MkU3OEVBNTcwNTJENDM2Qg"
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule"
PLAIN_LOGIN = "org.apache.kafka.common.security.plain.PlainLoginModule"


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("tls")
    # the external host of test_scram_with_tls_and_external too: the certificate must cover it
    node = pki.node_certificate(pki.new_ca(root / "ca"), extra_dns=["kafka-0.example.com"])
    return str(pki.write_tls_secret(root / "tls", node))


def _scram(cli: Cli, tmp_path: Path, template: Path, version: str = "3.9.2", **changes: str) -> Outcome:
    libs = tmp_path / "kafka" / "libs"
    libs.mkdir(parents=True, exist_ok=True)
    (libs / f"kafka_2.13-{version}.jar").write_bytes(b"")
    users = pki.write_users_secret(tmp_path / "users", SCRAM_PASSWORDS)
    changes = {"SASL_USERS_DIR": str(users), "SASL_MECHANISM": "SCRAM-SHA-512", **changes}
    env = valid_env(tmp_path, template, KAFKA_VERSION=None, **changes)  # the jar above names it
    return cli.run(["--dry-run"], env)


def _props(outcome: Outcome) -> dict[str, str]:
    """The generated properties, read back the way Kafka reads them (masked values stay masked)."""
    assert outcome.exit_code == 0, outcome.log
    loaded = jproperties.Properties()
    loaded.load(outcome.stdout, "iso-8859-1")
    return {key: loaded[key].data for key in loaded}


def test_scram_without_tls_keeps_plain_on_the_controller(
    cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """No TLS: the broker listener SASL_PLAINTEXT with SCRAM, the controller one SASL_PLAINTEXT with PLAIN."""
    props = _props(_scram(cli, tmp_path, template_path, CLUSTER_ID=CID))
    assert props["listeners"] == "SASL_PLAINTEXT://:9092,CONTROLLER://:9093"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    assert props["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"] == "******"
    assert "listener.name.sasl_plaintext.plain.sasl.jaas.config" not in props
    assert props["sasl.mechanism.controller.protocol"] == "PLAIN"
    assert props["listener.name.controller.sasl.enabled.mechanisms"] == "PLAIN"
    assert props["listener.name.controller.plain.sasl.jaas.config"] == "******"


def test_scram_with_tls_and_external(cli: Cli, tmp_path: Path, template_path: Path, tls_dir: str) -> None:
    """TLS: SCRAM on SASL_SSL and EXTERNAL, the controller listener mutual TLS with no SASL at all."""
    outcome = _scram(
        cli, tmp_path, template_path, TLS_DIR=tls_dir, EXTERNAL_HOST="kafka-{ordinal}.example.com"
    )
    props = _props(outcome)
    assert props["listeners"] == "SASL_SSL://:9092,CONTROLLER://:9093,EXTERNAL://:9094"
    for listener in ("sasl_ssl", "external"):
        assert props[f"listener.name.{listener}.scram-sha-512.sasl.jaas.config"] == "******"
    assert props["listener.name.controller.ssl.client.auth"] == "required"
    assert not any(key.startswith("listener.name.controller.") and "sasl" in key for key in props)
    assert "sasl.mechanism.controller.protocol" not in props


def test_scram_jaas_holds_only_the_nodes_own_login() -> None:
    """The broker's SCRAM JAAS entry: the inter-broker user's login, no user_ list (that is in metadata)."""
    from kraft_entrypoint import security

    jaas = security._scram_jaas("kafka", tuple(PASSWORDS.items()))
    assert jaas == f'{SCRAM_LOGIN} required username="kafka" password="inter-Broker-pw-1";'
    plain = security._plain_jaas("kafka", tuple(PASSWORDS.items()))
    assert plain.startswith(PLAIN_LOGIN)
    assert 'user_admin="adm\\"in\\\\pw-2"' in plain


def test_dry_run_plan_masks_every_scram_password(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """The plan shows --add-scram per user with ******; no password in the output or the log."""
    outcome = _scram(cli, tmp_path, template_path, CLUSTER_ID=CID)
    assert outcome.exit_code == 0, outcome.log
    for user in SCRAM_PASSWORDS:
        assert f'--add-scram SCRAM-SHA-512=[name={user},password="******"]' in outcome.log
    assert "SASL/SCRAM-SHA-512: 3 users" in outcome.log
    for password in SCRAM_PASSWORDS.values():
        assert password not in outcome.log
        assert password.encode() not in outcome.stdout


@pytest.mark.parametrize(
    ("changes", "version", "words"),
    [
        ({}, "3.3.2", ["SASL_MECHANISM", "3.3.2", "3.5"]),
        ({}, "3.4.1", ["SASL_MECHANISM", "3.4.1"]),
        ({"SASL_MECHANISM": "SCRAM-SHA-1"}, "3.9.2", ["SASL_MECHANISM", "SCRAM-SHA-512"]),
        ({"SASL_MECHANISM": "scram-sha-512"}, "3.9.2", ["SASL_MECHANISM"]),
    ],
    ids=["kafka-3.3", "kafka-3.4", "unknown-mechanism", "lower-case"],
)
def test_scram_refusals_exit_2(
    changes: dict[str, str], version: str, words: list[str], cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """SCRAM below Kafka 3.5, or an unknown mechanism: exit 2 naming SASL_MECHANISM (and the version)."""
    outcome = _scram(cli, tmp_path, template_path, version=version, **changes)
    assert outcome.exit_code == 2, outcome.log
    for word in words:
        assert word in outcome.log
    assert outcome.stdout == b""


def test_mechanism_without_users_exits_2(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """SASL_MECHANISM alone: exit 2 naming SASL_USERS_DIR."""
    outcome = cli.run(["--dry-run"], valid_env(tmp_path, template_path, SASL_MECHANISM="SCRAM-SHA-512"))
    assert outcome.exit_code == 2
    assert "SASL_USERS_DIR" in outcome.log


def test_format_argv_adds_one_add_scram_per_user() -> None:
    """--add-scram MECH=[name=U,password="P"] per user, after the static flags; masked on request."""
    users = commands.ScramUsers("SCRAM-SHA-256", (("alice", "a=b]c d"), ("kafka", "k")))
    caps = capabilities(KafkaVersion(4, 4, 0))
    argv = commands.format_argv("/opt/kafka", "/c/s.properties", CID, caps, None, False, users)
    assert argv[6:] == (
        "--add-scram", 'SCRAM-SHA-256=[name=alice,password="a=b]c d"]',
        "--add-scram", 'SCRAM-SHA-256=[name=kafka,password="k"]',
    )
    masked = commands.format_argv("/opt/kafka", "/c/s.properties", CID, caps, None, False, users.masked())
    assert "a=b]c d" not in " ".join(masked)
    assert "alice" in repr(users)
    assert "a=b]c d" not in repr(users)


@pytest.mark.parametrize("password", ["a,b", 'a"b'])
def test_format_argv_refuses_what_add_scram_cannot_carry(password: str) -> None:
    """A ',' or '"' would be split or dropped by the storage tool's parser: refused, password not shown."""
    users = commands.ScramUsers("SCRAM-SHA-512", (("alice", password),))
    with pytest.raises(ValueError, match="cannot carry") as raised:
        commands.format_argv("/k", "/c", CID, capabilities(KafkaVersion(3, 9, 2)), None, False, users)
    assert password not in str(raised.value)


def test_format_argv_add_scram_needs_kafka_3_5() -> None:
    """The add_scram fact: --add-scram exists from 3.5.0."""
    users = commands.ScramUsers("SCRAM-SHA-512", (("alice", "pw"),))
    with pytest.raises(ValueError, match=r"3\.5"):
        commands.format_argv("/k", "/c", CID, capabilities(KafkaVersion(3, 4, 1)), None, False, users)
    since = capabilities(KafkaVersion(3, 5, 0))
    assert "--add-scram" in commands.format_argv("/k", "/c", CID, since, None, False, users)
