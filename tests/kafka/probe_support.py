"""Running `kraft-entrypoint probe` inside a lab pod, as the kubelet's exec probe does."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass

from kafka_support import kraftlab


@dataclass(frozen=True)
class ProbeResult:
    code: int
    line: str
    seconds: float
    stderr: str


def run_probe(lab: kraftlab.Lab, slot: int, kind: str, timeout: float = 5, **env: str) -> ProbeResult:
    """The probe as the kubelet runs it: in the pod's namespace, with the pod's environment."""
    argv = lab.net.exec_argv(
        lab.net.ns(slot), [sys.executable, "-m", "kraft_entrypoint", "probe", kind, "--timeout", str(timeout)]
    )
    start = time.monotonic()
    done = subprocess.run(
        argv, env=lab.pod_env(slot, **env), capture_output=True, text=True, timeout=timeout + 30, check=False
    )
    seconds = time.monotonic() - start
    lines = done.stdout.splitlines()
    assert len(lines) == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done
    return ProbeResult(done.returncode, lines[0], seconds, done.stderr)


def poll_probe(
    lab: kraftlab.Lab, slot: int, kind: str, until: int, timeout: float, probe_timeout: float = 5
) -> tuple[ProbeResult, list[ProbeResult]]:
    """Probe every half second until the exit code is ``until``; returns it and the ones before."""
    seen: list[ProbeResult] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = run_probe(lab, slot, kind, probe_timeout)
        if result.code == until:
            return result, seen
        seen.append(result)
        time.sleep(0.5)
    raise AssertionError(
        f"probe {kind} on {slot} never exited {until} in {timeout}s: {[r.line for r in seen[-5:]]}"
    )
