"""SASL_MECHANISM=SCRAM-* as a real process: the format's --add-scram, the record of the users it
wrote, the users added later, and no password in anything printed (the format's own output too)."""

from __future__ import annotations

from pathlib import Path

from kraftlab import pki

from .support import FakeKafka, run

PASSWORDS = {"kafka": "inter-Broker-pw-1", "admin": "adm=in]pw-2", "alice": "alice pw 3"}
FAILING_FORMAT = r"""#!/bin/sh
# Like kafka-storage.sh on a bad --add-scram: it echoes the argument it could not parse.
for arg in "$@"; do echo "Failed to parse SCRAM argument '$arg'"; done
echo "Unknown SCRAM configurations: password=alice pw 3"
exit 1
"""


def _scram_env(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path, version: str = "3.9.2"
) -> dict[str, str]:
    fake.install(version)
    return fake.env(
        base_environ,
        SASL_USERS_DIR=str(pki.write_users_secret(tmp_path / "users", PASSWORDS)),
        SASL_MECHANISM="SCRAM-SHA-512",
    )


def _assert_no_password(*outputs: str) -> None:
    for output in outputs:
        for password in PASSWORDS.values():
            assert password not in output


def test_dry_run_shows_add_scram_masked(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path
) -> None:
    """--dry-run: the plan's format command has one --add-scram per user, passwords as ******."""
    env = _scram_env(fake, base_environ, tmp_path)
    before_id = run(["--dry-run"], env)
    assert "with --add-scram for each of the 3 users" in before_id.stderr
    dry = run(["--dry-run"], {**env, "CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qg"})
    assert dry.returncode == 0, dry.stderr
    for user in PASSWORDS:
        assert f'--add-scram SCRAM-SHA-512=[name={user},password="******"]' in dry.stderr
    assert "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=******" in dry.stdout.decode()
    assert "sasl.mechanism.controller.protocol=PLAIN" in dry.stdout.decode()
    _assert_no_password(dry.stderr, dry.stdout.decode())
    assert fake.format_calls() == []


def test_scram_on_kafka_3_3_exits_2_naming_both(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path
) -> None:
    """Kafka 3.3.2 (the image's default) has no --add-scram: exit 2 naming SASL_MECHANISM and the version."""
    env = _scram_env(fake, base_environ, tmp_path, version="3.3.2")
    for args in (["--dry-run"], []):
        result = run(args, env)
        assert result.returncode == 2, result.stderr
        for word in ("SASL_MECHANISM", "3.3.2", "3.5"):
            assert word in result.stderr
        assert "Traceback" not in result.stderr
    assert fake.format_calls() == []
    assert fake.server_starts() == 0
    assert list(fake.share.iterdir()) == []


def test_start_formats_with_every_user_and_records_their_names(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path
) -> None:
    """A start formats with --add-scram per user (the real passwords, one argument each), records
    the names beside meta.properties; a user added later is logged with its kafka-configs.sh command."""
    env = _scram_env(fake, base_environ, tmp_path)
    first = run([], env)
    assert first.returncode == 0, first.stderr
    [call] = fake.format_calls()
    assert 'SCRAM-SHA-512=[name=alice,password="alice pw 3"]' in call
    assert 'SCRAM-SHA-512=[name=admin,password="adm=in]pw-2"]' in call
    assert call.count("--add-scram") == 3
    record = (fake.share / "0" / "kraft-entrypoint-scram-users").read_text()
    assert sorted(line for line in record.splitlines() if not line.startswith("#")) == [
        "SCRAM-SHA-512 admin",
        "SCRAM-SHA-512 alice",
        "SCRAM-SHA-512 kafka",
    ]
    assert "password" not in record.replace("# users", "").split("\n", 1)[1]

    pki.write_users_secret(tmp_path / "users", {**PASSWORDS, "dave": "dave-pw-4"})
    second = run([], env)
    assert second.returncode == 0, second.stderr
    assert len(fake.format_calls()) == 1
    [hint] = [line for line in second.stderr.splitlines() if "was not written" in line]
    assert "user dave " in hint
    assert (
        "kafka-configs.sh --bootstrap-server kafka-0.kafka-svc.kafka-kraft.svc.cluster.local:9092 "
        "--command-config '<admin client.properties>' --alter --add-config 'SCRAM-SHA-512=[password=******]' "
        "--entity-type users --entity-name dave"
    ) in hint
    _assert_no_password(first.stderr, second.stderr, "dave-pw-4")
    assert "dave-pw-4" not in second.stderr


def test_failing_format_never_prints_a_password(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path
) -> None:
    """The storage tool echoes what it could not parse; the entrypoint masks every password in it (exit 5)."""
    env = _scram_env(fake, base_environ, tmp_path)
    script = fake.home / "bin" / "kafka-storage.sh"
    script.write_text(FAILING_FORMAT)
    result = run([], env)
    assert result.returncode == 5, result.stderr
    assert "Failed to parse SCRAM argument 'SCRAM-SHA-512=[name=alice,password=\"******\"]'" in result.stderr
    assert "Unknown SCRAM configurations: password=******" in result.stderr
    _assert_no_password(result.stderr, result.stdout.decode())
    assert fake.server_starts() == 0


def test_password_kafka_cannot_carry_exits_2(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path
) -> None:
    """A ',' in a password cannot pass through --add-scram: exit 2 naming SASL_USERS_DIR and the user."""
    env = _scram_env(fake, base_environ, tmp_path)
    pki.write_users_secret(tmp_path / "users", {**PASSWORDS, "eve": "a,b-secret"})
    result = run(["--dry-run"], env)
    assert result.returncode == 2
    assert "SASL_USERS_DIR" in result.stderr
    assert "'eve'" in result.stderr
    assert "a,b-secret" not in result.stderr
