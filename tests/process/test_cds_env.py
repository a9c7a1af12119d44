"""The real program hands the CDS archives to the format child and the exec'd server via KAFKA_OPTS."""

from __future__ import annotations

from pathlib import Path

import pytest

from kraft_entrypoint import cds, name_cache

from .support import STORAGE_SCRIPT, FakeKafka, run

# The fake kafka-storage.sh also records its environment.
_RECORD_ARGS = 'printf \'%s\\n\' "$@" > "$calls/storage.$n"'
RECORDING_STORAGE = STORAGE_SCRIPT.replace(_RECORD_ARGS, _RECORD_ARGS + '; env > "$calls/storage.env"')
USER_OPTS = {"KAFKA_OPTS": "-Dmine=1 -Xlog:cds", "KAFKA_JVM_PERFORMANCE_OPTS": "-XX:+UseSerialGC -Dperf=1"}


@pytest.fixture
def with_archives(fake: FakeKafka, tmp_path: Path) -> dict[str, str]:
    """Archives stamped for a fake JDK in the fake KAFKA_HOME; returns the environment they fit."""
    assert "$calls/storage.env" in RECORDING_STORAGE
    (fake.home / "bin" / "kafka-storage.sh").write_text(RECORDING_STORAGE)
    jdk = tmp_path / "jdk"
    (jdk / "bin").mkdir(parents=True)
    (jdk / "bin" / "java").write_text("#!/bin/sh\nexit 1\n")
    (jdk / "bin" / "java").chmod(0o755)
    (jdk / "release").write_text('JAVA_VERSION="11.0.25"\n')
    fake.install("3.3.2", b"PK")
    (fake.home / "cds").mkdir()
    for name in cds.ARCHIVES.values():
        (fake.home / "cds" / name).write_bytes(b"archive")
    env = {"JAVA_HOME": str(jdk)}
    cds.write_stamp(str(fake.home / "cds"), "static", "11.0.25", cds.fingerprint(str(fake.home), env))
    return env


def _env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_format_and_server_get_the_archive_after_the_users_options(
    fake: FakeKafka, with_archives: dict[str, str], base_environ: dict[str, str]
) -> None:
    """KAFKA_OPTS = the user's, then -XX:SharedArchiveFile; the other JVM variables untouched."""
    result = run([], fake.env({**base_environ, **USER_OPTS, **with_archives}))
    assert result.returncode == 0, result.stderr
    storage_env, server_env = _env_file(fake.calls / "storage.env"), _env_file(fake.calls / "server.env")
    archives = fake.home / "cds"
    assert storage_env["KAFKA_OPTS"] == f"-Dmine=1 -Xlog:cds -XX:SharedArchiveFile={archives}/storage.jsa"
    assert server_env["KAFKA_OPTS"] == (f"-Dmine=1 -Xlog:cds -XX:SharedArchiveFile={archives}/server.jsa "
                                        f"{name_cache.option()}")
    for child in (storage_env, server_env):
        assert child["KAFKA_JVM_PERFORMANCE_OPTS"] == USER_OPTS["KAFKA_JVM_PERFORMANCE_OPTS"]
    lines = [line for line in result.stderr.splitlines() if "cds:" in line]
    assert lines == [
        f"kraft-entrypoint INFO: cds: kafka-storage.sh uses {fake.home}/cds/storage.jsa (static archive, "
        "Java 11.0.25)",
        f"kraft-entrypoint INFO: cds: kafka-server-start.sh uses {fake.home}/cds/server.jsa (static archive, "
        "Java 11.0.25)",
    ]
    restart = run([], fake.env({**base_environ, **with_archives}))
    assert restart.returncode == 0, restart.stderr
    restarted = _env_file(fake.calls / "server.env")
    assert restarted["KAFKA_OPTS"] == f"-XX:SharedArchiveFile={archives}/server.jsa {name_cache.option()}"
    restart_lines = [line for line in restart.stderr.splitlines() if "cds:" in line]
    assert restart_lines == lines[1:], "a restart formats nothing: one line, the server's"


def test_off_leaves_kafka_opts_as_the_user_set_it(
    fake: FakeKafka, with_archives: dict[str, str], base_environ: dict[str, str]
) -> None:
    """KRAFT_CDS=off: both JVMs get the user's KAFKA_OPTS without an archive (the server's with
    the name cache option only)."""
    result = run([], fake.env({**base_environ, **USER_OPTS, **with_archives, "KRAFT_CDS": "off"}))
    assert result.returncode == 0, result.stderr
    assert _env_file(fake.calls / "storage.env")["KAFKA_OPTS"] == USER_OPTS["KAFKA_OPTS"]
    server_opts = _env_file(fake.calls / "server.env")["KAFKA_OPTS"]
    assert server_opts == f"{USER_OPTS['KAFKA_OPTS']} {name_cache.option()}"
    assert result.stderr.count("cds: off (KRAFT_CDS=off)") == 2


def test_a_stale_archive_never_stops_a_start(
    fake: FakeKafka, with_archives: dict[str, str], base_environ: dict[str, str]
) -> None:
    """Jars changed after the archives were made: one warning per JVM, and Kafka is started."""
    (fake.home / "libs" / "another.jar").write_bytes(b"PK")
    result = run([], fake.env({**base_environ, **with_archives}))
    assert result.returncode == 0, result.stderr
    assert fake.server_starts() == 1
    assert _env_file(fake.calls / "server.env")["KAFKA_OPTS"] == name_cache.option()  # no archive
    warnings = [line for line in result.stderr.splitlines()
                if line.startswith("kraft-entrypoint WARNING: cds:")]
    assert len(warnings) == 2
    assert all("jars in" in line and "(another.jar)" in line for line in warnings), warnings
