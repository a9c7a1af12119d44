"""`python -m kraft_entrypoint probe ...` as the kubelet runs it: exit codes, one line, no traceback,
the deadline, and a start that never imports the probe's client library."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import FakeKafka, run

VALID_ID = "MkU3OEVBNTcwNTJENDM2Qg"


def _one_line(result_stdout: bytes, stderr: str) -> str:
    lines = result_stdout.decode().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in stderr
    assert stderr == "", stderr
    return lines[0]


def _write_generated_config(fake: FakeKafka, env: dict[str, str], port: int) -> None:
    """The config a start generates (its --dry-run), on a loopback broker port of the test's choosing."""
    dry = run(["--dry-run"], {**env, "CLUSTER_ID": VALID_ID})
    assert dry.returncode == 0, dry.stderr
    text = dry.stdout.decode()
    text = re.sub(
        r"(?m)^advertised\.listeners=.*$", f"advertised.listeners=PLAINTEXT\\://127.0.0.1\\:{port}", text
    )
    fake.config.parent.mkdir(parents=True, exist_ok=True)
    fake.config.write_text(text)


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a hung JVM's listener)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("kind", ["startup", "ready", "live"])
def test_no_config_yet_fails_with_that_reason(
    fake: FakeKafka, base_environ: dict[str, str], kind: str
) -> None:
    """Before the first start wrote KRAFT_CONFIG, every probe fails (exit 1) saying so in one line."""
    result = run(["probe", kind], fake.env(base_environ))
    assert result.returncode == 1
    line = _one_line(result.stdout, result.stderr)
    assert line.startswith(f"{kind}: ")
    assert "not written yet" in line
    assert str(fake.config) in line


@pytest.mark.parametrize(
    ("args", "changes", "words"),
    [
        pytest.param(["probe", "sideways"], {}, "sideways", id="unknown-kind"),
        pytest.param(["probe"], {}, "Missing argument", id="no-kind"),
        pytest.param(["probe", "ready", "--timeout", "soon"], {}, "PROBE_TIMEOUT", id="bad-timeout-flag"),
        pytest.param(["probe", "ready"], {"PROBE_TIMEOUT": "-3"}, "PROBE_TIMEOUT", id="bad-timeout-variable"),
        pytest.param(["probe", "live"], {"HOSTNAME": "Not_A_Pod"}, "HOSTNAME", id="bad-hostname"),
        pytest.param(["probe", "live"], {"REPLICAS": "many"}, "REPLICAS", id="bad-replicas"),
        pytest.param(["probe", "live", "--bogus"], {}, "--bogus", id="unknown-flag"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    fake: FakeKafka, base_environ: dict[str, str], args: list[str], changes: dict[str, str], words: str
) -> None:
    """Bad arguments or variables: exit 1 and one line naming the culprit, never a traceback or usage text."""
    result = run(args, fake.env(base_environ, **changes))
    assert result.returncode == 1
    assert words in _one_line(result.stdout, result.stderr)


def test_config_that_is_not_kraft_fails(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """A KRAFT_CONFIG without process.roles (not one we generated) fails in one line naming it."""
    fake.config.parent.mkdir(parents=True)
    fake.config.write_text("broker.id=0\nzookeeper.connect=zk:2181\n")
    result = run(["probe", "ready"], fake.env(base_environ))
    assert result.returncode == 1
    assert "process.roles" in _one_line(result.stdout, result.stderr)


@pytest.mark.parametrize("kind", ["startup", "ready", "live"])
def test_nothing_listening_fails_fast(fake: FakeKafka, base_environ: dict[str, str], kind: str) -> None:
    """A refused connection (Kafka not started) fails with the address in one line, within the timeout."""
    env = fake.env(base_environ, PROBE_TIMEOUT="3")
    port = _closed_port()
    _write_generated_config(fake, env, port)
    start = time.monotonic()
    result = run(["probe", kind], env)
    elapsed = time.monotonic() - start
    assert result.returncode == 1
    line = _one_line(result.stdout, result.stderr)
    assert f"127.0.0.1:{port}" in line or "within 3s" in line
    assert elapsed < 3 + 2, elapsed


@pytest.mark.parametrize("kind", ["startup", "ready", "live"])
def test_hung_listener_fails_within_the_timeout(
    fake: FakeKafka, base_environ: dict[str, str], silent_listener: int, kind: str
) -> None:
    """A listener that accepts and never answers: exit 1 within --timeout, saying no answer came."""
    env = fake.env(base_environ)
    _write_generated_config(fake, env, silent_listener)
    start = time.monotonic()
    result = run(["probe", kind, "--timeout", "1.5"], env)
    elapsed = time.monotonic() - start
    assert result.returncode == 1
    line = _one_line(result.stdout, result.stderr)
    assert line.startswith(f"{kind}: ")
    assert "1.5s" in line or "Timeout" in line, line
    assert 1.0 < elapsed < 1.5 + 1.5, elapsed  # counted from the interpreter's start


def test_a_start_never_imports_the_probe_client(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """A start (here --dry-run) imports neither kafka-python nor the probe module; a probe does."""
    env = fake.env(base_environ, CLUSTER_ID=VALID_ID)
    start = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kraft_entrypoint", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert start.returncode == 0, start.stderr
    imported = re.findall(r"^import time:.*\|\s*(\S+)$", start.stderr, flags=re.M)
    assert "kraft_entrypoint.cli" in imported
    assert not [
        name for name in imported if name == "kafka" or name.startswith(("kafka.", "kraft_entrypoint.probe"))
    ]

    _write_generated_config(fake, env, _closed_port())
    probe = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kraft_entrypoint", "probe", "live"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    imported = re.findall(r"^import time:.*\|\s*(\S+)$", probe.stderr, flags=re.M)
    assert "kraft_entrypoint.probe" in imported
    assert "kafka.net.manager" in imported


def test_probe_writes_nothing(fake: FakeKafka, base_environ: dict[str, str], silent_listener: int) -> None:
    """A probe leaves the config, the share and the installation exactly as they were."""
    env = fake.env(base_environ)
    _write_generated_config(fake, env, silent_listener)
    before = sorted(
        (p, p.stat().st_mtime_ns, p.read_bytes()) for p in Path(fake.root).rglob("*") if p.is_file()
    )
    run(["probe", "ready", "--timeout", "1"], env)
    after = sorted(
        (p, p.stat().st_mtime_ns, p.read_bytes()) for p in Path(fake.root).rglob("*") if p.is_file()
    )
    assert after == before
