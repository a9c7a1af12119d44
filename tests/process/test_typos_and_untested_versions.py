"""Inputs that are not understood, and Kafka versions beyond the test matrix, as the real program
reports them: one warning line each on stderr (stdout of --dry-run stays the properties), exit 2
with STRICT=true naming them all, and a new major Kafka refused unless allowed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .support import FakeKafka, Run, run

WARNING = "kraft-entrypoint WARNING: "
SECURITY_NONE = WARNING + "security: none (PLAINTEXT, no authentication)"
TLS_DIRS = (
    WARNING
    + "TLS_DIRS is not a variable kraft-entrypoint reads and is ignored; did you mean TLS_DIR (--tls-dir)?"
)
HOTS = (
    WARNING + "EXTERNAL_HOTS is not a variable kraft-entrypoint reads and is ignored; did you mean "
    "EXTERNAL_HOST (--external-host)?"
)
RETENTON = (
    WARNING + "KAFKA_CFG_LOG_RETENTON_HOURS sets log.retenton.hours, which is not a broker or "
    "controller configuration of Kafka 3.3.2; did you mean log.retention.hours "
    "(KAFKA_CFG_LOG_RETENTION_HOURS)?"
)


def _env(fake: FakeKafka, **changes: str) -> dict[str, str]:
    """Only what the program needs: nothing of this machine's environment can add a warning."""
    return fake.env({"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, **changes)


def _warnings(result: Run) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith(WARNING)]


def _with_version(fake: FakeKafka, version: str) -> dict[str, str]:
    """The fake installation as Kafka ``version`` (its broker jar in libs/), the 3.x template kept."""
    fake.install(version)
    return {"KRAFT_TEMPLATE": str(fake.home / "config" / "kraft" / "server.properties")}


def test_plaintext_dry_run_warns_security_none_only(fake: FakeKafka) -> None:
    """A valid plaintext --dry-run: one warning, the security-none line, and stdout is the properties."""
    result = run(["--dry-run"], _env(fake))
    assert result.returncode == 0, result.stderr
    assert _warnings(result) == [SECURITY_NONE]
    assert b"WARNING" not in result.stdout
    assert result.stdout.startswith(b"#")


def test_each_typo_is_one_warning_line_naming_what_was_meant(fake: FakeKafka) -> None:
    """TLS_DIRS, EXTERNAL_HOTS and KAFKA_CFG_LOG_RETENTON_HOURS each give one line; the start goes on."""
    env = _env(
        fake, TLS_DIRS="/etc/kafka/tls", EXTERNAL_HOTS="kafka.example.com", KAFKA_CFG_LOG_RETENTON_HOURS="24"
    )
    result = run(["--dry-run"], env)
    assert result.returncode == 0, result.stderr
    assert _warnings(result) == [HOTS, TLS_DIRS, SECURITY_NONE, RETENTON]
    assert b"log.retenton.hours=24" in result.stdout  # warned, not dropped: Kafka decides


def test_a_real_start_warns_too(fake: FakeKafka) -> None:
    """Not only --dry-run: a start logs the same lines, then execs Kafka."""
    result = run([], _env(fake, SASL_USER_DIR="/etc/kafka/users"))
    assert result.returncode == 0, result.stderr
    assert WARNING + (
        "SASL_USER_DIR is not a variable kraft-entrypoint reads and is ignored; did you mean "
        "SASL_USERS_DIR (--sasl-users-dir)?"
    ) in _warnings(result)
    assert fake.server_starts() == 1


def test_a_misspelt_override_prefix_warns_and_strict_counts_it(fake: FakeKafka) -> None:
    """KAFKA_CGF_LOG_RETENTION_HOURS sets nothing: one line naming KAFKA_CFG_LOG_RETENTION_HOURS,
    the property is not written; with --strict it is among the inputs that exit 2."""
    env = _env(fake, KAFKA_CGF_LOG_RETENTION_HOURS="24", KAFKA_HEAP_OPTS="-Xmx1g", KAFKA_OPTS="-Dx=1")
    meant = WARNING + (
        "KAFKA_CGF_LOG_RETENTION_HOURS is not a variable kraft-entrypoint reads and is ignored; did you "
        "mean KAFKA_CFG_LOG_RETENTION_HOURS (a Kafka property is set by KAFKA_CFG_ and its name)?"
    )
    result = run(["--dry-run"], env)
    assert result.returncode == 0, result.stderr
    assert _warnings(result) == [meant, SECURITY_NONE]
    assert b"log.retention.hours=24" not in result.stdout
    strict = run(["--dry-run", "--strict"], env)
    assert strict.returncode == 2, strict.stderr
    assert _warnings(strict) == [meant, SECURITY_NONE]
    assert strict.stderr.splitlines()[-1] == (
        "kraft-entrypoint ERROR: STRICT (--strict)=true and these inputs are not understood: "
        "KAFKA_CGF_LOG_RETENTION_HOURS; correct or remove them (see the warnings above), or set "
        "STRICT=false to start with warnings only"
    )
    assert strict.stdout == b""


STRICT_CASES = [(["--strict"], {}), (["--strict"], {"STRICT": "false"}), ([], {"STRICT": "true"})]


@pytest.mark.parametrize(("args", "variable"), STRICT_CASES, ids=["flag", "flag-over-variable", "variable"])
def test_strict_exits_2_naming_every_unknown_input(
    fake: FakeKafka, args: list[str], variable: dict[str, str]
) -> None:
    """STRICT=true (or --strict): the warnings, then exit 2 naming all of them; nothing written or run."""
    env = _env(fake, TLS_DIRS="/x", KAFKA_CFG_LOG_RETENTON_HOURS="24", **variable)
    result = run(args, env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "kraft-entrypoint ERROR: STRICT (--strict)=true and these inputs are not understood: TLS_DIRS, "
        "KAFKA_CFG_LOG_RETENTON_HOURS; correct or remove them (see the warnings above), or set "
        "STRICT=false to start with warnings only"
    )
    assert _warnings(result) == [TLS_DIRS, SECURITY_NONE, RETENTON]
    assert fake.server_starts() == 0
    assert not fake.config.exists()


def test_strict_without_unknown_inputs_starts(fake: FakeKafka) -> None:
    """STRICT=true with every input understood: the security-none line is a warning, not a refusal."""
    result = run(["--dry-run"], _env(fake, STRICT="true"))
    assert result.returncode == 0, result.stderr
    assert _warnings(result) == [SECURITY_NONE]


@pytest.mark.parametrize("value", ["maybe", "yes"])
def test_strict_takes_true_or_false_only(fake: FakeKafka, value: str) -> None:
    """STRICT=maybe is no flag left unset: exit 2 naming STRICT and its values."""
    result = run(["--dry-run"], _env(fake, STRICT=value))
    assert result.returncode == 2
    assert f"STRICT (--strict) must be one of true, false, e.g. STRICT=true; got '{value}'" in result.stderr


def test_kafka_newer_than_the_matrix_warns(fake: FakeKafka) -> None:
    """Kafka 4.5.0 starts with one warning naming 4.4.0, and its overrides use 4.4.0's names."""
    env = _env(fake, **_with_version(fake, "4.5.0"), KAFKA_CFG_LOG_RETENTON_HOURS="24")
    result = run(["--dry-run"], env)
    assert result.returncode == 0, result.stderr
    assert _warnings(result)[0] == WARNING + (
        "Kafka 4.5.0 is newer than the newest version kraft-entrypoint is tested with, 4.4.0; "
        "starting it anyway"
    )
    assert (
        "kraft-entrypoint INFO: KAFKA_CFG_* names: checked against the configurations of Kafka 4.4.0, "
        "the newest list not above 4.5.0"
    ) in result.stderr.splitlines()
    assert RETENTON.replace("3.3.2", "4.4.0") in _warnings(result)


@pytest.mark.parametrize("version", ["5.0.0", "9.9.9"])
def test_a_new_major_kafka_exits_2(fake: FakeKafka, version: str) -> None:
    """Kafka 5.0.0 (or 9.9.9) exits 2 naming KAFKA_UNTESTED=allow; nothing is written or run."""
    result = run([], _env(fake, **_with_version(fake, version)))
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"kraft-entrypoint ERROR: Kafka {version} is a major version above 4, which kraft-entrypoint has "
        "never been tested with (newest tested: 4.4.0); its storage tool and configuration may differ; "
        "set KAFKA_UNTESTED (--allow-untested-kafka)=allow to start it anyway, or use an image with a "
        "tested Kafka"
    )
    assert fake.server_starts() == 0
    assert not fake.config.exists()


@pytest.mark.parametrize(
    ("args", "variable"),
    [(["--allow-untested-kafka"], {}), ([], {"KAFKA_UNTESTED": "allow"})],
    ids=["flag", "variable"],
)
def test_a_new_major_kafka_starts_when_allowed(
    fake: FakeKafka, args: list[str], variable: dict[str, str]
) -> None:
    """--allow-untested-kafka or KAFKA_UNTESTED=allow: 5.0.0 starts with the warning."""
    result = run(["--dry-run", *args], _env(fake, **_with_version(fake, "5.0.0"), **variable))
    assert result.returncode == 0, result.stderr
    assert _warnings(result)[0].startswith(WARNING + "Kafka 5.0.0 is a major version above 4")
    assert _warnings(result)[0].endswith("; starting it anyway")


def test_untested_takes_allow_or_refuse_only(fake: FakeKafka, tmp_path: Path) -> None:
    """KAFKA_UNTESTED=yes exits 2 naming the two values."""
    result = run(["--dry-run"], _env(fake, KAFKA_UNTESTED="yes"))
    assert result.returncode == 2
    assert "KAFKA_UNTESTED (--allow-untested-kafka) must be one of allow, refuse" in result.stderr


def test_a_release_older_than_every_list_is_not_checked_and_says_so(fake: FakeKafka) -> None:
    """Kafka 3.3.1 (the lists start at 3.3.2): one line says the overrides are not checked; no warning."""
    env = _env(fake, **_with_version(fake, "3.3.1"), KAFKA_CFG_LOG_RETENTON_HOURS="24")
    result = run(["--dry-run"], env)
    assert result.returncode == 0, result.stderr
    assert _warnings(result) == [SECURITY_NONE]
    assert (
        "kraft-entrypoint INFO: KAFKA_CFG_* names: no list of Kafka's configurations for 3.3.1 or older; "
        "not checked"
    ) in result.stderr.splitlines()
