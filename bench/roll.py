"""R5: ``kubectl rollout restart statefulset/kafka`` under an idempotent ``acks=all`` producer on the
real cluster of ``scripts/k8s`` (Kafka 3.3.2, RF=3, ``min.insync.replicas=2``, 100 msg/s), with the
probes and JVM name caches before this release (TCP checks of the broker port, as k8s/base had them;
the JDK's 30 s name cache in the brokers) and with ours (``kraft-entrypoint probe startup|ready|live``;
the brokers keep a looked-up address 1 s), in one run, the kinds' order rotating. Everything else is
the same ``k8s/base``: only the probes and the brokers' KAFKA_OPTS differ (a kustomize patch of the
StatefulSet). Ours is rolled twice: under a client with the JDK's name cache (30 s, as in a client
image that does not set it) and under one run from this image (1 s, as its java.security says).

Per roll: its duration, sent / acknowledged / failed / lost, the ``NotEnoughReplicas`` refusals in
the brokers' logs, the longest window without an acknowledgement, and the window after ``rollout
status`` had returned.

Standalone (root, the cluster up: ``scripts/k8s up``): ``.venv/bin/python -m bench.roll [--rolls 2]``.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from bench.report import Report, standalone
from kraftlab import container as ch
from kraftlab import k8s as kh
from kraftlab.k8s.clients import JDK_NAME_CACHE, JDK_NAME_CACHE_TEXT
from kraftlab.k8s.roll import CLIENT_CPU, Roll, roll_under_producer

RESULTS = Path(__file__).resolve().parent / "results"
REPLICAS = 3

#: k8s/base's probes before the exec probes, as a strategic merge patch (``exec: null`` drops ours),
#: and the JDK's name cache for the server JVM, in the file a test client with it uses too.
TCP_PROBES = """\
startupProbe: {exec: null, tcpSocket: {port: broker}, periodSeconds: 5, failureThreshold: 60,
               timeoutSeconds: 1}
readinessProbe: {exec: null, tcpSocket: {port: broker}, periodSeconds: 10, failureThreshold: 3,
                 timeoutSeconds: 1}
livenessProbe: {exec: null, tcpSocket: {port: broker}, periodSeconds: 20, timeoutSeconds: 5,
                failureThreshold: 6}
""" + f"""\
command: [sh, -c, 'printf "%s" "$JDK_NAME_CACHE" > {JDK_NAME_CACHE} &&
          exec /opt/kraft-entrypoint/bin/kraft-entrypoint']
env:
  - {{name: JDK_NAME_CACHE, value: {json.dumps(JDK_NAME_CACHE_TEXT)}}}
  - {{name: KAFKA_OPTS, value: -Djava.security.properties={JDK_NAME_CACHE}}}
"""
KINDS = ("TCP probes, JDK name caches (before)", "probe ready (now), client with the JDK's name cache",
         "probe ready (now), client of the image (name cache 1 s)")
NAMESPACES = ("tcp", "exec", "exec-client-1s")


def one_roll(kind: str, image: str, scratch: Path) -> Roll:
    ns = kh.Namespace(f"bench-roll-{NAMESPACES[KINDS.index(kind)]}")
    try:
        manifests = kh.prepare_manifests(scratch / ns.name, ns.name, kh.new_cluster_id(ch.IMAGE_TAG))
        target = manifests / "base"
        if kind == KINDS[0]:  # the JDK's name cache back (the entrypoint leaves the user's choice)
            target = kh.patched_base(manifests, "tcp-probes", TCP_PROBES)
        ns.volumes(*[f"data-kafka-{n}" for n in range(REPLICAS)])
        kh.kubectl("apply", "-k", str(target))
        kh.wait_ready(ns.name, "kafka", REPLICAS)
        probe = kh.kubectl("-n", ns.name, "get", "statefulset", "kafka", "-o",
                           "jsonpath={.spec.template.spec.containers[0].readinessProbe}").stdout
        if ("tcpSocket" in probe) != (kind == KINDS[0]):
            raise RuntimeError(f"{kind}: the StatefulSet's readiness probe is {probe}")
        client = kh.Client(ns.name, image, jdk_name_cache=kind != KINDS[2], cpu=CLIENT_CPU)
        _wait_registered(ns.name, client)  # TCP probes call a pod Ready before its broker registers
        return roll_under_producer(ns.name, client, REPLICAS)
    finally:
        ns.close()


def _wait_registered(ns: str, client: kh.Client, timeout: float = 180) -> None:
    """Until every broker is registered (BrokerApiVersionsCommand lists it)."""
    deadline = time.monotonic() + timeout
    while True:
        listed = kh.exec_in(ns, client.name, "kafka-run-class.sh", "kafka.admin.BrokerApiVersionsCommand",
                            "--bootstrap-server", client.bootstrap, check=False, timeout=120).stdout
        if listed.count("(id: ") >= REPLICAS:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{ns}: not {REPLICAS} brokers registered within {timeout} s")
        time.sleep(2)


def run(report: Report, rolls: int) -> None:
    if not kh.cluster_is_up():
        report.note("R5 skipped: the cluster of scripts/k8s is not up (scripts/k8s up)")
        return
    with tempfile.TemporaryDirectory(prefix="kraft-bench-roll-") as scratch:
        image = kh.load_project_image(Path(scratch))
        for i in range(rolls):
            for kind in KINDS[i % len(KINDS):] + KINDS[:i % len(KINDS)]:
                started = time.monotonic()
                roll = one_roll(kind, image, Path(scratch))
                report.line(f"R5 {kind}, roll {i + 1}", roll.summary())
                print(f"bench: R5 {kind} done in {time.monotonic() - started:.0f} s", flush=True)


def main(argv: Optional[Sequence[str]] = None) -> None:
    standalone("python -m bench.roll", __doc__, RESULTS / "roll.md",
               lambda p: p.add_argument("--rolls", type=int, default=2, help="rolls of each kind"),
               lambda report, args: run(report, args.rolls), argv)


if __name__ == "__main__":
    main()
