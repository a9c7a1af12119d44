"""Fail at once where waiting cannot help, and say what a start would do: the real program
(python -m kraft_entrypoint) against a fake KAFKA_HOME, with CLUSTER_ID_TIMEOUT=300 so that a
wait would show. The seconds each case took are printed (pytest -s), never asserted."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import jproperties
import pytest

from kraftlab import pki

from .support import FakeKafka, Run, run

VALID_ID = "MkU3OEVBNTcwNTJENDM2Qg"
WAIT = "300"


def _timed(args: list[str], env: dict[str, str], case: str) -> Run:
    started = time.monotonic()
    result = run(args, env, timeout=120)
    print(f"{case}: exit {result.returncode} after {time.monotonic() - started:.2f} s")
    return result


def _garbage(content: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _directory(path: Path) -> None:
    path.mkdir()


def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "nowhere")


CLUSTER_ID_CASES = [
    ("garbage", _garbage(b"not an id\n"), "does not hold a cluster id"),
    ("blank", _garbage(b"\n \n"), "does not hold a cluster id (it holds only white space): '\\n \\n'"),
    ("control-chars", _garbage(b"\x1b]0;owned\x07\n"), "'\\x1b]0;owned\\x07\\n'"),
    ("reserved", _garbage(b"AAAAAAAAAAAAAAAAAAAAAA\n"), "it is an id Kafka reserves"),
    ("fifo", _fifo, "is a FIFO"),
    ("directory", _directory, "is a directory"),
    ("dangling-symlink", _dangling, "dangling symlink"),
    ("over-4-kib", _garbage(b"x" * 5000), "larger than 4096 bytes"),
]


@pytest.mark.parametrize("dry_run", [False, True], ids=["start", "dry-run"])
@pytest.mark.parametrize(("make", "words"), [case[1:] for case in CLUSTER_ID_CASES],
                         ids=[case[0] for case in CLUSTER_ID_CASES])
def test_cluster_id_that_can_never_be_read_exits_4_at_once(
    fake: FakeKafka, base_environ: dict[str, str], make: Callable[[Path], None], words: str, dry_run: bool
) -> None:
    """Exit 4 naming the file without waiting CLUSTER_ID_TIMEOUT, in a start and in --dry-run;
    nothing formatted, the file left as it was, no raw control character in the output."""
    path = fake.share / "cluster_id"
    make(path)
    result = _timed(["--dry-run"] if dry_run else [], fake.env(base_environ, CLUSTER_ID_TIMEOUT=WAIT),
                    f"cluster_id {words!r} dry_run={dry_run}")
    assert result.returncode == 4, result.stderr
    assert str(path) in result.stderr
    assert words in result.stderr
    assert "\x1b" not in result.stderr
    assert "\x07" not in result.stderr
    assert "Traceback" not in result.stderr
    assert fake.format_calls() == []
    assert fake.server_starts() == 0
    if path.is_file():
        assert "delete the file" in result.stderr or "larger than" in result.stderr


def test_share_dir_that_is_a_file_exits_2_naming_it(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """SHARE_DIR that exists but is not a directory is invalid input, in a start and a dry run."""
    fake.share.rmdir()
    fake.share.write_text("oops\n")
    for args in ([], ["--dry-run"]):
        result = _timed(args, fake.env(base_environ, CLUSTER_ID_TIMEOUT=WAIT), f"SHARE_DIR a file {args}")
        assert result.returncode == 2, result.stderr
        assert f"SHARE_DIR (--share-dir) {fake.share} is not a directory" in result.stderr
        assert "meta.properties" not in result.stderr
    assert fake.format_calls() == []


def test_derived_template_says_where_it_came_from(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """Without KRAFT_TEMPLATE a missing template blames KAFKA_HOME and the version, not KRAFT_TEMPLATE."""
    template = fake.home / "config" / "kraft" / "server.properties"
    template.unlink()
    result = run(["--dry-run"], fake.env(base_environ))
    assert result.returncode == 2, result.stderr
    assert (
        f"no template at {template} (no such file; derived from KAFKA_HOME (--kafka-home)={fake.home} "
        "for Kafka 3.3.2)" in result.stderr
    )
    assert "set KRAFT_TEMPLATE (--template) to use another" in result.stderr
    assert "named by" not in result.stderr


def test_given_template_is_blamed(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    missing = fake.root / "mine.properties"
    result = run(["--dry-run"], fake.env(base_environ, KRAFT_TEMPLATE=str(missing)))
    assert result.returncode == 2, result.stderr
    assert f"cannot read the template {missing} named by KRAFT_TEMPLATE (--template)" in result.stderr


def test_dry_run_says_what_a_start_would_run(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """--dry-run never says 'running': the format and the exec are what a start would run."""
    result = run(["--dry-run"], fake.env(base_environ, CLUSTER_ID=VALID_ID))
    assert result.returncode == 0, result.stderr
    assert "format: running" not in result.stderr
    assert f"format: would run kafka-storage.sh format --config {fake.config} --cluster-id={VALID_ID}" in (
        result.stderr
    )
    assert f"exec: would run {fake.home}/bin/kafka-server-start.sh {fake.config}" in result.stderr
    assert fake.format_calls() == []


def test_exec_line_comes_after_the_formats_output(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    result = run([], fake.env(base_environ, CLUSTER_ID=VALID_ID))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    running = next(i for i, line in enumerate(lines) if "format: running kafka-storage.sh" in line)
    output = lines.index("fake kafka-storage.sh: formatting")
    exec_line = next(i for i, line in enumerate(lines) if "INFO: exec: " in line)
    assert running < output < exec_line


def test_example_id_warning_points_to_new_cluster_id(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    result = run(["--dry-run"], fake.env(base_environ, CLUSTER_ID=VALID_ID))
    (warning,) = [line for line in result.stderr.splitlines() if "example id" in line]
    assert "`kraft-entrypoint --new-cluster-id`" in warning
    assert "`python -m kraft_entrypoint --new-cluster-id`" in warning


def test_control_characters_in_an_override_cannot_split_a_log_line(
    fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """A newline in a KAFKA_CFG_* value is escaped in the log (no forged line); the written config
    holds the value exactly (jproperties escapes it)."""
    value = "a\nkraft-entrypoint ERROR: forged\r\x1b[2Jb"
    env = fake.env(base_environ, CLUSTER_ID=VALID_ID, KAFKA_CFG_SOME_DESCRIPTION=value)
    result = run([], env)
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stderr.splitlines() if line.startswith("kraft-entrypoint ERROR")]
    assert "KAFKA_CFG_SOME_DESCRIPTION: some.description=a\\nkraft-entrypoint ERROR: forged\\r\\x1b[2Jb" in (
        result.stderr
    )
    assert "\x1b" not in result.stderr
    loaded = jproperties.Properties()
    loaded.load(fake.config.read_bytes(), "iso-8859-1")
    assert loaded["some.description"].data == value


# --- TLS: the certificate must cover this pod, now -----------------------------------------


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> pki.CertificateAuthority:
    return pki.new_ca(tmp_path_factory.mktemp("ca"))


@pytest.mark.parametrize("dry_run", [False, True], ids=["start", "dry-run"])
@pytest.mark.parametrize("problem", ["other-service", "external-host", "expired"])
def test_certificate_not_covering_this_pod_exits_2(
    fake: FakeKafka, base_environ: dict[str, str], ca: pki.CertificateAuthority, problem: str, dry_run: bool
) -> None:
    """Exit 2 naming TLS_DIR, the name not covered and the names held, before anything is written."""
    now = datetime.datetime.now(datetime.timezone.utc)
    name = f"{problem}-{dry_run}"
    changes = {}
    if problem == "other-service":
        node = pki.node_certificate(ca, name, service="other-svc", client_service=None)
        words = "does not cover kafka-0.kafka-svc.kafka-kraft.svc.cluster.local (it holds DNS:*.other-svc."
    elif problem == "external-host":
        node = pki.node_certificate(ca, name, client_service=None)
        changes["EXTERNAL_HOST"] = "kafka-{ordinal}.example.com"
        words = "does not cover kafka-0.example.com (it holds DNS:*.kafka-svc.kafka-kraft.svc.cluster.local)"
    else:
        past = (now - datetime.timedelta(days=90), now - datetime.timedelta(days=1))
        node = pki.node_certificate(ca, name, valid=past)
        words = "expired on "
    tls_dir = pki.write_tls_secret(fake.root / f"tls-{name}", node)
    env = fake.env(base_environ, TLS_DIR=str(tls_dir), CLUSTER_ID_TIMEOUT=WAIT, **changes)
    result = _timed(["--dry-run"] if dry_run else [], env, f"certificate {problem} dry_run={dry_run}")
    assert result.returncode == 2, result.stderr
    assert f"TLS_DIR (--tls-dir): tls.crt in {tls_dir} {words}" in result.stderr
    assert fake.format_calls() == []
    assert not fake.config.exists()
    assert not (fake.share / "cluster_id").exists()


def _imported(env: dict[str, str]) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kraft_entrypoint", "--dry-run"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return re.findall(r"^import time:.*\|\s*(\S+)$", proc.stderr, flags=re.M)


def test_cryptography_is_imported_only_with_tls(
    fake: FakeKafka, base_environ: dict[str, str], ca: pki.CertificateAuthority
) -> None:
    """A start without TLS_DIR imports neither kraft_entrypoint.x509 nor cryptography; with it, both."""
    plain = _imported(fake.env(base_environ, CLUSTER_ID=VALID_ID))
    assert "kraft_entrypoint.cli" in plain
    assert not [name for name in plain if name.startswith(("cryptography", "kraft_entrypoint.x509"))]
    tls_dir = pki.write_tls_secret(fake.root / "tls", pki.node_certificate(ca, "imports"))
    secure = _imported(fake.env(base_environ, CLUSTER_ID=VALID_ID, TLS_DIR=str(tls_dir)))
    assert "kraft_entrypoint.x509" in secure
    assert "cryptography.x509" in secure
