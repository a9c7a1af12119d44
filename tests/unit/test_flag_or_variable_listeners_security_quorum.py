"""The listener, security, external and quorum options: flag = variable, a flag wins, values differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from kraftlab import pki

from .support import Cli, Outcome, valid_env

USERS = {"kafka": "pw-kafka-1", "admin": "pw-admin-2", "ops": "pw-ops-3"}
DEDICATED = {"CONTROLLER_STATEFULSET": "kafka-controller", "CONTROLLER_REPLICAS": "3"}

# (variable, flag, companions, a, b): "{tls}", "{tls2}", "{users}", "{users2}" are made by the test.
NEW_OPTIONS = [
    ("TLS_DIR", "--tls-dir", {}, "{tls}", "{tls2}"),
    ("TLS_CLIENT_AUTH", "--tls-client-auth", {"TLS_DIR": "{tls}"}, "required", "requested"),
    ("SASL_USERS_DIR", "--sasl-users-dir", {}, "{users}", "{users2}"),
    ("SASL_INTER_BROKER_USER", "--sasl-inter-broker-user", {"SASL_USERS_DIR": "{users}"}, "kafka", "admin"),
    ("SASL_MECHANISM", "--sasl-mechanism", {"SASL_USERS_DIR": "{users}"}, "SCRAM-SHA-512", "PLAIN"),
    ("AUTHORIZATION", "--authorization", {"SASL_USERS_DIR": "{users}"}, "acl", "off"),
    ("SUPER_USERS", "--super-users", {"SASL_USERS_DIR": "{users}", "AUTHORIZATION": "acl"}, "admin", "ops"),
    ("EXTERNAL_HOST", "--external-host", {}, "a.example", "b-{{ordinal}}.example"),
    ("EXTERNAL_PORT", "--external-port", {"EXTERNAL_HOST": "h.example"}, "9094", "9095"),
    (
        "EXTERNAL_ADVERTISED_PORT",
        "--external-advertised-port",
        {"EXTERNAL_HOST": "h.example"},
        "31000",
        "31001",
    ),
    ("EXTERNAL_PORT_BASE", "--external-port-base", {"EXTERNAL_HOST": "h.example"}, "31000", "32000"),
    ("QUORUM", "--quorum", {}, "dynamic", "static"),
    ("CONTROLLER_STATEFULSET", "--controller-statefulset", {"CONTROLLER_REPLICAS": "3"}, "ctl-a", "ctl-b"),
    ("CONTROLLER_SERVICE", "--controller-service", DEDICATED, "svc-a", "svc-b"),
    ("BROKER_ID_OFFSET", "--broker-id-offset", DEDICATED, "100", "200"),
]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Two TLS Secrets and two users Secrets in Kubernetes' volume layout."""
    root = tmp_path_factory.mktemp("secrets")
    ca = pki.new_ca(root / "ca")
    first, second = pki.node_certificate(ca, "node-a"), pki.node_certificate(ca, "node-b")
    return {
        "tls": str(pki.write_tls_secret(root / "tls", first)),
        "tls2": str(pki.write_tls_secret(root / "tls2", second)),
        "users": str(pki.write_users_secret(root / "users", USERS)),
        "users2": str(pki.write_users_secret(root / "users2", {"kafka": "other-pw"})),
    }


def _key(outcome: Outcome) -> tuple[int, bytes, str, bool]:
    return outcome.exit_code, outcome.stdout, outcome.log, outcome.exception is None


@pytest.mark.parametrize(
    ("variable", "flag", "companions", "a", "b"), NEW_OPTIONS, ids=[o[0] for o in NEW_OPTIONS]
)
def test_listener_security_quorum_flag_and_variable_are_equivalent(
    variable: str,
    flag: str,
    companions: dict[str, str],
    a: str,
    b: str,
    made: dict[str, str],
    cli: Cli,
    tmp_path: Path,
    template_path: Path,
) -> None:
    """--dry-run gives the same exit code, stdout and log by flag or variable, and a flag wins."""
    libs = tmp_path / "kafka" / "libs"
    libs.mkdir(parents=True)
    (libs / "kafka_2.13-3.9.1.jar").write_bytes(b"")  # a version with a dynamic quorum
    base = valid_env(
        tmp_path,
        template_path,
        HOSTNAME="kafka-1",
        KAFKA_VERSION=None,  # read from libs/
        **{key: value.format(**made) for key, value in companions.items()},
    )
    a, b = a.format(**made), b.format(**made)
    by_variable_a = cli.run(["--dry-run"], {**base, variable: a})
    by_flag_a = cli.run(["--dry-run", f"{flag}={a}"], base)
    by_variable_b = cli.run(["--dry-run"], {**base, variable: b})
    by_flag_b = cli.run(["--dry-run", flag, b], base)
    flag_wins = cli.run(["--dry-run", f"{flag}={b}"], {**base, variable: a})
    assert _key(by_variable_a) == _key(by_flag_a)
    assert _key(by_variable_b) == _key(by_flag_b)
    assert _key(flag_wins) == _key(by_variable_b)
    assert _key(by_variable_a) != _key(by_variable_b), "the two values must be told apart"
    assert by_variable_a.exit_code == 0, by_variable_a.log
    assert by_variable_b.exit_code == 0, by_variable_b.log


def test_help_groups_every_option_under_a_heading(cli: Cli) -> None:
    """--help shows the six headings of SPEC, each new flag with its variable."""
    outcome = cli.run(["--help"], {})
    text = outcome.stdout.decode()
    for heading in (
        "Pod and cluster:",
        "Cluster id and storage:",
        "Files:",
        "Listeners and security:",
        "External access:",
        "Quorum:",
    ):
        assert heading in text
    for variable, flag, *_ in NEW_OPTIONS:
        assert flag in text
        assert variable in text
    assert text.index("Quorum:") < text.index("--broker-id-offset")
