"""A lab left running (``scripts/demo --keep``) and stopped later from another process."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from pathlib import Path

from .network import Network, Topology
from .util import pid_alive, run


def stop_saved(path: Path, timeout: float = 60) -> list[str]:
    """Stop a lab recorded by :meth:`Lab.save_state`: SIGTERM its pods (only processes that are
    inside its namespaces), then remove namespaces, bridge, /etc/netns entries and files."""
    state = json.loads(path.read_text())
    net = Network(state["prefix"], int(state["pods"]), Topology(**state["topology"]))
    existing = set(run(["ip", "netns", "list"], check=False).stdout.split())
    net._created_ns = [ns for ns in net.all_ns() if ns in existing]
    net._bridge_created = Path(f"/sys/class/net/{net.bridge}").exists()
    inside = {
        int(pid)
        for ns in net._created_ns
        for pid in run(["ip", "netns", "pids", ns], check=False).stdout.split()
    }
    pids = [int(pid) for pid in state["pids"].values() if int(pid) in inside]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.5)
    problems = net.destroy()
    shutil.rmtree(state["workdir"], ignore_errors=True)
    path.unlink()
    return problems
