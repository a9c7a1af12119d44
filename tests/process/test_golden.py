"""What a user sees, byte for byte: --help, representative --dry-run runs and input errors.

Each case runs the real program (``python -m kraft_entrypoint``) against a fake KAFKA_HOME and
compares its exit code, stdout and stderr with tests/fixtures/golden/<case>.txt, the temporary
directory written as ``<tmp>``. The files were made from the program's own output; to remake
them after an intended change, run with ``KRAFT_GOLDEN_UPDATE=1`` and review the diff.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kraftlab import pki

from .support import FakeKafka, run

GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden"
CID = "q1Sh-9_ISia_zwGINzRvyQ"


def _install(fake: FakeKafka, version: str) -> None:
    """Make the fake KAFKA_HOME an installation of ``version`` (its broker jar in libs/)."""
    fake.install(version)
    if not version.startswith("3."):
        (fake.home / "config" / "server.properties").write_bytes(
            (fake.home / "config" / "kraft" / "server.properties").read_bytes()
        )


def _plain(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    return ["--dry-run"]


def _sasl_tls_acl(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    ca = pki.new_ca(fake.root / "ca")
    tls = pki.write_tls_secret(fake.root / "tls", pki.node_certificate(ca))
    users = pki.write_users_secret(fake.root / "users", {"kafka": "broker-secret", "admin": "admin-secret"})
    env.update(TLS_DIR=str(tls), SASL_USERS_DIR=str(users), AUTHORIZATION="acl", SUPER_USERS="admin")
    env["KAFKA_CFG_SSL_KEY_PASSWORD"] = pki.new_password()
    return ["--dry-run"]


def _dedicated_controller(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    env.update(
        HOSTNAME="kafka-controller-1",
        CONTROLLER_STATEFULSET="kafka-controller",
        CONTROLLER_REPLICAS="3",
        CONTROLLER_SERVICE="kafka-controller-svc",
    )
    del env["REPLICAS"]
    return ["--dry-run"]


def _dedicated_broker(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    env.update(HOSTNAME="kafka-4", CONTROLLER_STATEFULSET="kafka-controller", CONTROLLER_REPLICAS="3")
    del env["REPLICAS"]
    return ["--dry-run", "--broker-id-offset", "1000"]


def _external(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    env.update(HOSTNAME="kafka-2", EXTERNAL_HOST="kafka-{ordinal}.example.com", EXTERNAL_PORT_BASE="31090")
    env["KAFKA_CFG_LOG_RETENTION_HOURS"] = "24"
    return ["--dry-run"]


def _dynamic_initial(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    _install(fake, "3.9.2")
    env.update(QUORUM="dynamic", CLUSTER_ID=CID, HOSTNAME="kafka-1")
    return ["--dry-run"]


def _dynamic_joining(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    _install(fake, "3.9.2")
    env.update(
        QUORUM="dynamic",
        CLUSTER_ID=CID,
        HOSTNAME="kafka-controller-4",
        CONTROLLER_STATEFULSET="kafka-controller",
        CONTROLLER_REPLICAS="3",
    )
    del env["REPLICAS"]
    return ["--dry-run"]


def _kafka4_dynamic(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    _install(fake, "4.4.0")
    env.update(QUORUM="dynamic", CLUSTER_ID=CID, HOSTNAME="kafka-3", CONTROLLER_REPLICAS="3", REPLICAS="5")
    del env["KRAFT_CONFIG"]
    return ["--dry-run"]


def _help(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    return ["--help"]


def _invalid_port(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    env["EXTERNAL_HOST"] = "kafka-{ordinal}.example.com"
    return ["--dry-run", "--external-port", "{ordinal}"]


def _static_past_quorum(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    env["HOSTNAME"] = "kafka-3.kafka-svc"
    return ["--dry-run"]


def _dynamic_too_old(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    _install(fake, "3.8.1")
    env["QUORUM"] = "dynamic"
    return ["--dry-run"]


def _metrics(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    (fake.home / "metrics").mkdir()
    (fake.home / "metrics" / "jmx_prometheus_javaagent.jar").write_bytes(b"PK")
    (fake.home / "metrics" / "kafka-metrics.yml").write_text("rules: []\n")
    env.update(METRICS="prometheus", METRICS_PORT="9404")
    return ["--dry-run"]


def _metrics_without_agent(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    env.update(METRICS="prometheus")
    return ["--dry-run"]


def _unsupported(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    _install(fake, "3.2.3")
    return ["--dry-run"]


def _no_version(fake: FakeKafka, env: dict[str, str]) -> list[str]:
    shutil.rmtree(fake.home / "libs")
    return ["--dry-run"]


CASES: dict[str, Callable[[FakeKafka, dict[str, str]], list[str]]] = {
    "help": _help,
    "plain": _plain,
    "sasl-tls-acl": _sasl_tls_acl,
    "dedicated-controller": _dedicated_controller,
    "dedicated-broker": _dedicated_broker,
    "external": _external,
    "dynamic-initial": _dynamic_initial,
    "dynamic-joining": _dynamic_joining,
    "kafka4-dynamic": _kafka4_dynamic,
    "invalid-port": _invalid_port,
    "static-past-quorum": _static_past_quorum,
    "dynamic-too-old": _dynamic_too_old,
    "unsupported-version": _unsupported,
    "no-kafka-version": _no_version,
    "metrics": _metrics,
    "metrics-without-agent": _metrics_without_agent,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_is_unchanged(case: str, fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """Exit code, stdout and stderr of this run equal the golden file, byte for byte."""
    env = fake.env(base_environ, COLUMNS="100")
    args = CASES[case](fake, env)
    result = run(args, env)
    shown = (
        f"exit {result.returncode}\n--- stdout\n{result.stdout.decode('utf-8')}--- stderr\n{result.stderr}"
    ).replace(str(fake.root), "<tmp>")
    golden = GOLDEN / f"{case}.txt"
    if os.environ.get("KRAFT_GOLDEN_UPDATE") == "1":
        golden.write_text(shown)
    assert shown == golden.read_text()
