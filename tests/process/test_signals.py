"""SIGTERM and SIGINT end the entrypoint at any moment before the exec, also as PID 1 of a PID
namespace (as in a container), passing the signal on to a running kafka-storage.sh."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import pytest

from kraft_entrypoint import cluster_id

from .support import FakeKafka

SLOW_STORAGE_SCRIPT = r"""#!/bin/sh
# Fake kafka-storage.sh that takes 30 s and records the signal that stops it.
calls="$(dirname "$0")/../calls"
trap 'echo TERM > "$calls/storage.signal"; exit 143' TERM
trap 'echo INT > "$calls/storage.signal"; exit 130' INT
touch "$calls/storage.running"
sleep 30 &
wait $!
"""

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None, reason="a new PID namespace needs root and unshare"
)


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _child_of(pid: int) -> int:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                return int(entry)
    raise LookupError(pid)


@contextmanager
def _entrypoint(
    env: dict[str, str], stderr: Path, *, pid1: bool
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The real program, as PID 1 of a new PID namespace (``unshare -p -f``) or as a plain child.

    Yields the process to wait for and the host pid to signal (the entrypoint itself)."""
    argv = [sys.executable, "-m", "kraft_entrypoint"]
    if pid1:
        argv = ["unshare", "--pid", "--fork", "--kill-child", *argv]
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        target = process.pid
        if pid1:
            _wait_for(lambda: _has_child(process.pid), "the entrypoint under unshare")
            target = _child_of(process.pid)
            namespace_pids = next(
                line
                for line in Path(f"/proc/{target}/status").read_text().splitlines()
                if line.startswith("NSpid:")
            ).split()[1:]
            assert namespace_pids[-1] == "1", namespace_pids  # it really is PID 1 there
        yield process, target
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _has_child(pid: int) -> bool:
    try:
        _child_of(pid)
    except LookupError:
        return False
    return True


def _stop(process: subprocess.Popen[bytes], target: int, signum: int) -> tuple[int, float]:
    started = time.monotonic()
    os.kill(target, signum)
    returncode = process.wait(timeout=30)
    return returncode, time.monotonic() - started


def _temp_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.endswith(".tmp")]


SIGNALS = pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"]
)
AS_PID1 = pytest.mark.parametrize(
    "pid1", [pytest.param(True, marks=needs_root, id="pid1"), pytest.param(False, id="child")]
)


@SIGNALS
@AS_PID1
def test_stop_while_waiting_for_the_share(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path, signum: int, code: int, pid1: bool
) -> None:
    """Waiting for an unmounted SHARE_DIR (300 s timeout), a stop signal ends the wait with 128+N."""
    fake.share.rmdir()
    env = fake.env(base_environ, CLUSTER_ID_TIMEOUT="300")
    log = tmp_path / "stderr"
    with _entrypoint(env, log, pid1=pid1) as (process, target):
        _wait_for(lambda: b"waiting up to 300s" in log.read_bytes(), "the wait for the share")
        returncode, took = _stop(process, target, signum)
    text = log.read_text()
    assert returncode == code, text
    assert took < 20, f"took {took:.1f}s"  # far below the 300 s wait: the signal ended it
    assert f"stopped by {signal.Signals(signum).name}" in text
    assert "Traceback" not in text
    assert not fake.share.exists()
    assert fake.server_starts() == 0


@SIGNALS
@AS_PID1
def test_stop_while_formatting_reaches_the_format(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path, signum: int, code: int, pid1: bool
) -> None:
    """A stop during a slow kafka-storage.sh is passed on to it; nothing half-written is left."""
    script = fake.home / "bin" / "kafka-storage.sh"
    script.write_text(SLOW_STORAGE_SCRIPT)
    log = tmp_path / "stderr"
    with _entrypoint(fake.env(base_environ), log, pid1=pid1) as (process, target):
        _wait_for((fake.calls / "storage.running").exists, "the format to start")
        returncode, took = _stop(process, target, signum)
    text = log.read_text()
    assert returncode == code, text
    assert took < 20, f"took {took:.1f}s"  # below the fake tool's 30 s: it did not wait it out
    assert (fake.calls / "storage.signal").read_text().strip() == signal.Signals(signum).name[3:]
    assert "Traceback" not in text
    assert _temp_files(tmp_path) == []
    published = (fake.share / "cluster_id").read_text().split()
    assert [cluster_id.problem_with(value) for value in published] == [None]
    assert fake.server_starts() == 0


@needs_root
def test_without_handlers_pid1_ignores_sigterm(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path
) -> None:
    """Control: a PID 1 with no handler for SIGTERM does not stop (why the handlers are needed)."""
    log = tmp_path / "stderr"
    env = {**base_environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argv = ["unshare", "--pid", "--fork", "--kill-child", sys.executable, "-c", "import time; time.sleep(30)"]
    with log.open("wb") as err:
        process = subprocess.Popen(argv, env=env, stderr=err)
    try:
        _wait_for(lambda: _has_child(process.pid), "the sleeper")
        os.kill(_child_of(process.pid), signal.SIGTERM)
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=1.5)
    finally:
        process.kill()
        process.wait()
