"""A real 3-node Kafka KRaft cluster (3.3.2 by default), every node started through kraft_entrypoint.

Run as root:
    scripts/demo                   start it, show it, Ctrl-C stops it and cleans up
    scripts/demo --kafka 4.4.0     the same on another supported version (scripts/kafka-dist --list)
    scripts/demo --keep            leave it running (prints how to use and stop it)
    scripts/demo --stop            stop a cluster left running with --keep

Fetches Kafka from Maven Central (scripts/kafka-dist, cached), creates .venv with the package if
needed, and starts pods kafka-0..2 as network namespaces (hence root) with the seed manifest's
variables: REPLICAS=3 SERVICE=kafka-svc NAMESPACE=kafka-kraft and one SHARE_DIR.
Standard library only; the pods run the package with .venv/bin/python.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Optional

import kraftlab

REPO = kraftlab.REPO

STATE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kraft-entrypoint" / "demo.json"
PREFIX = "kldemo"
VENV = REPO / ".venv"
NODES = (0, 1, 2)


def say(text: str = "") -> None:
    print(text, flush=True)


def ensure_venv() -> str:
    """The interpreter of .venv with the package importable (created/installed when needed)."""
    python = VENV / "bin" / "python"
    check = [str(python), "-c", "import kraft_entrypoint.cli, jproperties, click, tenacity"]
    if python.exists() and subprocess.run(check, capture_output=True, cwd=REPO).returncode == 0:
        return str(python)
    if not python.exists():
        kraftlab.log(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    kraftlab.log("installing the package into .venv (pip install -e .)")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", str(REPO)], check=True)
    subprocess.run(check, check=True, cwd=REPO)
    return str(python)


def phase(lab: kraftlab.Lab, i: int) -> str:
    pod_run = lab.current(i)
    if pod_run.process.poll() is not None:
        return f"exited {pod_run.process.returncode}"
    out, err = pod_run.stdout_text(), pod_run.stderr_text()
    if "Kafka Server started" in out:
        return "Kafka started"
    if out:
        return "Kafka starting"
    if "Formatting" in err:
        return "formatting"
    return "entrypoint"


def generated(lab: kraftlab.Lab, i: int, key: str) -> str:
    """A value of the server.properties the entrypoint generated for pod i (Properties.store
    escapes ':' and '=' with a backslash)."""
    for line in (lab.pod_dir(i) / "server.properties").read_text().splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1].replace("\\:", ":").replace("\\=", "=")
    return "?"


def stop_saved() -> int:
    if not STATE.exists():
        say(f"no demo cluster recorded in {STATE}")
        return 1
    kraftlab.log("stopping the demo cluster")
    problems = kraftlab.stop_saved(STATE)
    for problem in problems:
        kraftlab.log(problem)
    say("demo cluster stopped and cleaned up")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the cluster running")
    parser.add_argument("--stop", action="store_true", help="stop a cluster left with --keep")
    parser.add_argument(
        "--kafka",
        metavar="VERSION",
        default=kraftlab.DEFAULT_VERSION,
        choices=kraftlab.supported(),
        help=f"Kafka version (default {kraftlab.DEFAULT_VERSION})",
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        say(
            "scripts/demo must run as root: each pod is a network namespace with its own hostname "
            "(ip netns, unshare, a bridge, /etc/netns/<pod>/hosts), which only root can create. "
            "Run it from a root shell (su -, or sudo where it is installed), with ip (iproute2), "
            "unshare (util-linux), Java 17, Maven and python3 -m venv available."
        )
        return 2
    if args.stop:
        return stop_saved()
    if STATE.exists():
        say(f"a demo cluster is still running (recorded in {STATE}): scripts/demo --stop")
        return 1
    for leftover in kraftlab.reap_stale():
        kraftlab.log(f"removed leftover {leftover} of a dead run")

    kafka_home = kraftlab.fetch_dist(args.kafka)
    python = ensure_venv()
    probe = kraftlab.compile_probe(kafka_home)

    lab = kraftlab.Lab(kafka_home, probe, pods=3, python=python, prefix=PREFIX)
    interrupted = False

    def on_signal(signum: int, frame: Optional[FrameType]) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    keep = False
    try:
        lab.open()
        start = time.monotonic()
        kraftlab.log(
            f"starting kafka-0, kafka-1, kafka-2 (Kafka {args.kafka}) in parallel "
            "through python -m kraft_entrypoint"
        )
        for i in NODES:
            lab.start(i)
        last = [""]

        def progress() -> None:
            line = "  ".join(f"kafka-{i}: {phase(lab, i)}" for i in NODES)
            if line != last[0]:
                kraftlab.log(f"{time.monotonic() - start:5.1f}s  {line}")
                last[0] = line

        status = lab.wait_ready(set(NODES), set(NODES), timeout=180, on_poll=progress)
        progress()
        say()
        say(f"cluster ready in {time.monotonic() - start:.1f}s")
        say(f"cluster id:    {status.cluster_id}")
        say(f"quorum leader: kafka-{status.leader} (epoch {status.epoch}, "
            f"voters {sorted(status.voters)})")
        say()
        say(f"{'pod':8} {'node.id':>7}  {'process.roles':18} {'address':14} {'pid':>7}  "
            "advertised.listeners")
        for i in NODES:
            say(f"kafka-{i:<2} {generated(lab, i, 'node.id'):>7}  "
                f"{generated(lab, i, 'process.roles'):18} {lab.net.address(i):14} "
                f"{lab.current(i).process.pid:>7}  {generated(lab, i, 'advertised.listeners')}")
        say()
        topic = "demo"
        lab.create_topic(topic, 3, 3, min_insync_replicas="2")
        lab.wait_isr(topic, set(NODES))
        stamp = time.strftime("%H%M%S")
        produced = lab.produce(topic, f"hello-kraft-{stamp}", 3)
        say(f"produced to '{topic}' (replication 3, min.insync.replicas=2, acks=all): "
            f"{', '.join(produced.acked)}")
        consumed = lab.consume(topic)
        say(f"consumed from '{topic}': {', '.join(sorted(consumed))}")
        say()
        say(f"entrypoint logs: {lab.workdir}/pods/kafka-N/start-1.err (Kafka: start-1.out)")
        if args.keep:
            lab.save_state(STATE)
            keep = True
            client = lab.net.client_ns
            say("left running. Use it from the client namespace, e.g.:")
            say(f"  ip netns exec {client} {kafka_home}/bin/kafka-metadata-quorum.sh "
                f"--bootstrap-server {lab.bootstrap()} describe --status")
            say("stop and clean up with: scripts/demo --stop")
            return 0
        say("running; Ctrl-C stops the cluster and cleans up")
        while True:
            lab.check_alive(NODES)
            time.sleep(1)
    except KeyboardInterrupt:
        interrupted = True
        say()
        kraftlab.log("stopping")
        return 130
    except kraftlab.LabError as exc:
        say(f"demo failed: {exc}")
        return 1
    finally:
        if not keep:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop cleanup
            problems = lab.close()
            for problem in problems:
                kraftlab.log(problem)
            kraftlab.log("stopped and cleaned up" if interrupted or not problems else "cleaned up")


if __name__ == "__main__":
    sys.exit(main())
