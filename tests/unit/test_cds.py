"""Class-data sharing at start: the KAFKA_OPTS decision (pure) and the stamp check (files only)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import pytest

from kraft_entrypoint import cds, fields
from kraft_entrypoint.errors import InvalidInput

from .support import Cli, valid_env

ARCHIVE = "/opt/kafka/cds/server.jsa"
USABLE = cds.Found(ARCHIVE, "dynamic archive, Java 17.0.15")


# --- the pure decision ---------------------------------------------------------------------------


def test_the_archive_is_appended_to_the_users_kafka_opts() -> None:
    """The user's KAFKA_OPTS stays first and whole; the archive option comes after it."""
    env = {"KAFKA_OPTS": " -Dfoo=1 -Xlog:gc ", "KAFKA_JVM_PERFORMANCE_OPTS": "-XX:+UseG1GC"}
    decision = cds.kafka_opts("auto", "server", env, USABLE)
    assert decision.kafka_opts == f"-Dfoo=1 -Xlog:gc -XX:SharedArchiveFile={ARCHIVE}"
    assert decision.message == f"cds: kafka-server-start.sh uses {ARCHIVE} (dynamic archive, Java 17.0.15)"
    assert not decision.warning


def test_without_kafka_opts_the_archive_is_the_whole_value() -> None:
    """No KAFKA_OPTS (or a blank one): KAFKA_OPTS becomes just the archive option."""
    for env in ({}, {"KAFKA_OPTS": "  "}):
        assert cds.kafka_opts("auto", "storage", env, USABLE).kafka_opts == f"-XX:SharedArchiveFile={ARCHIVE}"


def test_off_adds_nothing_even_with_an_archive() -> None:
    """KRAFT_CDS=off leaves KAFKA_OPTS alone and says so."""
    decision = cds.kafka_opts("off", "server", {"KAFKA_OPTS": "-Dfoo=1"}, USABLE)
    assert decision.kafka_opts is None
    assert "KRAFT_CDS=off" in decision.message


@pytest.mark.parametrize(
    ("variable", "option"),
    [
        ("KAFKA_OPTS", "-Xshare:off"),
        ("KAFKA_OPTS", "-XX:SharedArchiveFile=/mine.jsa"),
        ("KAFKA_JVM_PERFORMANCE_OPTS", "-XX:ArchiveClassesAtExit=/tmp/a.jsa"),
        ("KAFKA_HEAP_OPTS", "-XX:-UseSharedSpaces"),
        ("JAVA_TOOL_OPTIONS", "-XX:SharedClassListFile=/l"),
        ("JDK_JAVA_OPTIONS", "-XX:+AutoCreateSharedArchive"),
        ("KAFKA_OPTS", "-XX:DumpLoadedClassList=/l"),
    ],
)
def test_the_users_own_cds_options_win(variable: str, option: str) -> None:
    """A user who already chose CDS options in any JVM variable gets exactly those."""
    decision = cds.kafka_opts("auto", "server", {variable: f"-Dx=1 {option}"}, USABLE)
    assert decision.kafka_opts is None
    assert decision.message == (f"cds: {variable} has {option}; kafka-server-start.sh starts with the "
                                "user's CDS options, none added")


@pytest.mark.parametrize("option", ["-Xshare:on", "-Xshare:auto", "-Xlog:cds", "-Xlog:class+load=info"])
def test_options_compatible_with_the_archive_keep_it(option: str) -> None:
    """-Xshare:on/auto and CDS logging work with our archive, so it is still added."""
    decision = cds.kafka_opts("auto", "server", {"KAFKA_OPTS": option}, USABLE)
    assert decision.kafka_opts == f"{option} -XX:SharedArchiveFile={ARCHIVE}"


def test_no_archive_is_information_a_stale_one_a_warning() -> None:
    """Neither stops a start; a stale archive is logged as a warning, a missing one as information."""
    missing = cds.kafka_opts("auto", "server", {}, cds.Found(None, "no archive /x (none was made)"))
    stale = cds.kafka_opts("auto", "storage", {}, cds.Found(None, "/x does not fit: java is /y", stale=True))
    assert (missing.kafka_opts, missing.warning) == (None, False)
    assert (stale.kafka_opts, stale.warning) == (None, True)
    assert missing.message == ("cds: no archive /x (none was made); kafka-server-start.sh starts without "
                               "an archive")
    assert stale.message == "cds: /x does not fit: java is /y; kafka-storage.sh starts without an archive"


@pytest.mark.parametrize(("value", "mode"), [
    (None, "auto"), ("", "auto"), ("auto", "auto"), (" OFF ", "off"),
])
def test_mode_values(value: Optional[str], mode: str) -> None:
    """KRAFT_CDS is auto (the default) or off, in any case."""
    assert fields.cds_mode(value) == mode


@pytest.mark.parametrize("value", ["on", "yes", "false", "0", "dynamic"])
def test_other_modes_are_invalid_input(value: str) -> None:
    """Anything else exits 2 naming the variable and its flag."""
    with pytest.raises(InvalidInput, match=r"KRAFT_CDS \(--cds\) must be auto or off"):
        fields.cds_mode(value)


# --- the stamp check (files only) ------------------------------------------------------------------


class Installation:
    """A fake JDK and KAFKA_HOME under tmp_path with archives stamped by cds.write_stamp."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.jdk = self.fake_jdk(root / "jdk")
        self.home = root / "kafka"
        (self.home / "libs").mkdir(parents=True)
        for jar in ("kafka_2.13-3.3.2.jar", "kafka-clients-3.3.2.jar"):
            (self.home / "libs" / jar).write_bytes(b"PK" + jar.encode())
        self.cds = self.home / "cds"
        self.cds.mkdir()
        for name in cds.ARCHIVES.values():
            (self.cds / name).write_bytes(b"not really an archive")
        self.env = {"JAVA_HOME": str(self.jdk), "PATH": "/usr/bin:/bin"}
        cds.write_stamp(str(self.cds), "dynamic", "17.0.15", cds.fingerprint(str(self.home), self.env))

    def fake_jdk(self, jdk: Path) -> Path:
        (jdk / "bin").mkdir(parents=True)
        (jdk / "lib" / "server").mkdir(parents=True)
        java = jdk / "bin" / "java"
        # Proves that checking starts no JVM: running it would leave a file behind.
        java.write_text(f"#!/bin/sh\ntouch {self.root}/java-was-run\n")
        java.chmod(0o755)
        (jdk / "release").write_text('JAVA_VERSION="17.0.15"\n')
        (jdk / "lib" / "modules").write_bytes(b"modules")
        (jdk / "lib" / "server" / "libjvm.so").write_bytes(b"libjvm")
        return jdk

    def inspect(self, tool: str = "server", **env: str) -> cds.Found:
        return cds.inspect(str(self.home), tool, {**self.env, **env})


@pytest.fixture
def installation(tmp_path: Path) -> Installation:
    return Installation(tmp_path)


def test_a_fitting_archive_is_used_without_starting_java(installation: Installation) -> None:
    """Both archives fit the JDK and jars they were stamped with; java itself is never run."""
    for tool, name in cds.ARCHIVES.items():
        found = installation.inspect(tool)
        assert found == cds.Found(str(installation.cds / name), "dynamic archive, Java 17.0.15")
    assert not (installation.root / "java-was-run").exists()


def test_java_found_on_path_when_java_home_is_unset(installation: Installation, tmp_path: Path) -> None:
    """Like kafka-run-class.sh: $JAVA_HOME/bin/java, else java on PATH (symlinks resolved)."""
    (tmp_path / "path").mkdir()
    (tmp_path / "path" / "java").symlink_to(installation.jdk / "bin" / "java")
    env = {"PATH": f"{tmp_path / 'path'}:/usr/bin"}
    assert cds.inspect(str(installation.home), "server", env).archive is not None


def test_the_same_libs_through_a_symlinked_kafka_home_fit(installation: Installation, tmp_path: Path) -> None:
    """KAFKA_HOME is compared by the directory its libs are, not by spelling."""
    alias = tmp_path / "alias"
    alias.symlink_to(installation.home)
    assert cds.inspect(str(alias), "server", installation.env).archive == str(alias / "cds" / "server.jsa")


def test_an_image_without_archives(installation: Installation) -> None:
    """No archive file: not stale, just none (an image built with CDS_ARCHIVES=off)."""
    (installation.cds / "server.jsa").unlink()
    found = installation.inspect("server")
    assert found == cds.Found(None, f"no archive {installation.cds / 'server.jsa'} (none was made for this "
                                    "installation)")
    assert installation.inspect("storage").archive is not None


def _stale(found: cds.Found) -> str:
    assert found.archive is None
    assert found.stale
    return found.detail


def test_another_java(installation: Installation, tmp_path: Path) -> None:
    """JAVA_HOME pointing at another JDK makes the archive stale, naming both."""
    other = installation.fake_jdk(tmp_path / "other-jdk")
    detail = _stale(installation.inspect(JAVA_HOME=str(other)))
    assert f"java is {other}/bin/java, the archive was made with {installation.jdk}/bin/java" in detail
    assert "java is not found" in _stale(installation.inspect(JAVA_HOME=str(tmp_path / "missing")))


@pytest.mark.parametrize("name", ["release", "lib/modules", "lib/server/libjvm.so"])
def test_an_updated_jdk(installation: Installation, name: str) -> None:
    """A changed JDK file (a package update in place) makes the archive stale."""
    (installation.jdk / name).write_bytes(b"updated, and longer than before")
    assert f"the JDK's {name} changed" in _stale(installation.inspect())


def test_a_base_archive_appearing_in_the_jdk(installation: Installation) -> None:
    """The JDK's own CDS archive (a dynamic archive's base) is part of the stamp, missing or not."""
    (installation.jdk / "lib" / "server" / "classes.jsa").write_bytes(b"base")
    assert "lib/server/classes.jsa changed" in _stale(installation.inspect())


def test_changed_jars(installation: Installation) -> None:
    """An added, removed or rewritten jar changes kafka-run-class.sh's class path: stale, naming it."""
    libs = installation.home / "libs"
    (libs / "extra.jar").write_bytes(b"PK")
    assert "(extra.jar)" in _stale(installation.inspect())
    (libs / "extra.jar").unlink()
    assert installation.inspect().archive is not None
    jar = libs / "kafka-clients-3.3.2.jar"
    stat = jar.stat()
    os.utime(jar, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert "(kafka-clients-3.3.2.jar)" in _stale(installation.inspect())


def test_another_kafka_home(installation: Installation, tmp_path: Path) -> None:
    """Archives copied next to other libs do not fit them."""
    other = tmp_path / "other"
    (other / "libs").mkdir(parents=True)
    (other / "cds").symlink_to(installation.cds)
    assert "KAFKA_HOME/libs is" in _stale(cds.inspect(str(other), "server", installation.env))


def test_classpath_set(installation: Installation) -> None:
    """CLASSPATH would be added to the class path by the scripts: stale."""
    assert "CLASSPATH is set" in _stale(installation.inspect(CLASSPATH="/extra.jar"))


@pytest.mark.parametrize("content", [b"", b"{not json", b"[]", b'{"format": 2, "fingerprint": {}}',
                                     b'{"format": 1}', b"\xff\xfe"])
def test_an_unreadable_stamp(installation: Installation, content: bytes) -> None:
    """A missing, empty, garbage or future stamp: stale, never an exception."""
    (installation.cds / cds.STAMP).write_bytes(content)
    assert "has no readable stamp" in _stale(installation.inspect())
    (installation.cds / cds.STAMP).unlink()
    assert "has no readable stamp" in _stale(installation.inspect())


def test_the_stamp_is_plain_json(installation: Installation) -> None:
    """stamp.json names the kind, the Java version and both archives, readable by people."""
    stamp = json.loads((installation.cds / cds.STAMP).read_text())
    assert stamp["format"] == cds.STAMP_FORMAT
    assert stamp["kind"] == "dynamic"
    assert stamp["archives"] == {"storage": "storage.jsa", "server": "server.jsa"}
    assert stamp["fingerprint"]["java"] == str(installation.jdk / "bin" / "java")


def test_environment_for_logs_one_line_and_copies_the_environment(
    installation: Installation, caplog: pytest.LogCaptureFixture
) -> None:
    """The child's environment is ours with KAFKA_OPTS extended; ours is not changed."""
    ours = {**installation.env, "KAFKA_OPTS": "-Dmine=1"}
    with caplog.at_level("INFO", logger="kraft_entrypoint"):
        child = cds.environment_for("auto", str(installation.home), "storage", ours)
    archive = installation.cds / "storage.jsa"
    assert child == {**ours, "KAFKA_OPTS": f"-Dmine=1 -XX:SharedArchiveFile={archive}"}
    assert ours["KAFKA_OPTS"] == "-Dmine=1"
    assert [r.getMessage() for r in caplog.records] == [
        f"cds: kafka-storage.sh uses {installation.cds / 'storage.jsa'} (dynamic archive, Java 17.0.15)"
    ]
    caplog.clear()
    with caplog.at_level("INFO", logger="kraft_entrypoint"):
        stale = {**ours, "CLASSPATH": "/x"}
        assert cds.environment_for("auto", str(installation.home), "server", stale) is None
        assert cds.environment_for("off", str(installation.home), "server", ours) is None
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]


# --- the option ----------------------------------------------------------------------------------


def test_cds_flag_and_variable_are_equivalent(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """--cds and KRAFT_CDS give the same --dry-run; off and auto are told apart; bad values exit 2."""
    (tmp_path / "share").mkdir()
    base = valid_env(tmp_path, template_path)
    by_variable = cli.run(["--dry-run"], {**base, "KRAFT_CDS": "off"})
    by_flag = cli.run(["--dry-run", "--cds=off"], base)
    flag_wins = cli.run(["--dry-run", "--cds", "off"], {**base, "KRAFT_CDS": "auto"})
    default = cli.run(["--dry-run"], base)
    assert by_variable.exit_code == by_flag.exit_code == flag_wins.exit_code == default.exit_code == 0
    assert by_variable.log == by_flag.log == flag_wins.log
    assert "cds: off (KRAFT_CDS=off)" in by_variable.log
    assert "cds: no archive" in default.log
    bad = cli.run(["--dry-run"], {**base, "KRAFT_CDS": "yes"})
    assert bad.exit_code == 2
    assert "KRAFT_CDS (--cds) must be auto or off" in bad.log
    assert "KRAFT_CDS" in cli.run(["--help"], {}).stdout.decode()
