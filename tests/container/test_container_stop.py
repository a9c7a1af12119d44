"""`podman stop` of a pod whose entrypoint is still waiting (PID 1 of the container) returns in
seconds with 143, not after the grace period: the entrypoint handles SIGTERM before the exec."""

from __future__ import annotations

import time
import uuid

import pytest

from kraftlab import container as h

pytestmark = pytest.mark.container

GRACE = 60  # podman's --time: what a pod that ignored SIGTERM would cost before its SIGKILL


def _wait_for_log(name: str, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = h.run(["podman", "logs", name], timeout=30, check=False)
        if text in logs.stdout + logs.stderr:
            return logs.stdout + logs.stderr
        time.sleep(0.3)
    raise AssertionError(f"{name} never logged {text!r}")


def test_podman_stop_of_a_pod_waiting_for_the_share_returns_in_seconds(image: str) -> None:
    """The share directory never appears: SIGTERM to PID 1 ends the wait; exit 143, no SIGKILL needed."""
    name = f"kraft-stop-{uuid.uuid4().hex[:8]}"
    env = {"HOSTNAME": "kafka-0", "REPLICAS": "3", "SERVICE": "kafka-svc", "NAMESPACE": "kafka-kraft",
           "SHARE_DIR": "/mnt/kafka/not-mounted", "CLUSTER_ID_TIMEOUT": "300"}
    argv = ["podman", "run", "--detach", "--name", name, *h.PODMAN_RUN_OPTS, "--network", "none"]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    h.run([*argv, image], timeout=120)
    try:
        _wait_for_log(name, "waiting up to 300s")
        started = time.monotonic()
        h.run(["podman", "stop", "--time", str(GRACE), name], timeout=GRACE + 60)
        took = time.monotonic() - started
        state = h.run(["podman", "inspect", "--format", "{{.State.ExitCode}}", name], timeout=30)
        logs = h.run(["podman", "logs", name], timeout=30, check=False)
    finally:
        h.run(["podman", "rm", "--force", name], timeout=60, check=False)
    assert state.stdout.strip() == "143", logs.stderr
    assert took < GRACE / 2, f"podman stop took {took:.1f}s"
    assert "stopped by SIGTERM" in logs.stdout + logs.stderr
