"""P3K: P3 on the real cluster of ``scripts/k8s``: ``kubectl apply`` of 3 pods -> all Ready -> the
first RF=3 ``acks=all`` write acknowledged, for the seed's manifest and image (tests/fixtures/seed:
its Dockerfile with the Kafka tarball from a loopback server instead of downloads.apache.org, its
kafka.yaml with the image, namespace and hostPath a user fills in), and ours (``k8s/base``) with the
image's CDS archives and with ``KRAFT_CDS=off``. Runs in rounds whose order rotates, one namespace
at a time; the clock starts at the apply, with the client pod already running in the namespace.

The write: a VerifiableProducer of one value (``acks=all``, idempotent) to a topic created with
``--replication-factor 3 --config min.insync.replicas=2``, retried until acknowledged, through the
three pods' own addresses (the headless Service), the same for both.

Standalone (root, the cluster up): ``.venv/bin/python -m bench.k8s_start [--rounds 2]``.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bench.report import Report, Row, standalone
from bench.stats import Summary, ratios
from kraftlab import container as ch
from kraftlab import k8s as kh

RESULTS = Path(__file__).resolve().parent / "results"
SEED = kh.REPO / "tests" / "fixtures" / "seed"
SEED_IMAGE = "localhost/kafka-kraft-seed:bench"
SEED_URL = "https://downloads.apache.org/kafka/${KAFKA_VERSION}/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.tgz"
VOLUMES = Path("/var/lib/kraft-entrypoint-k8s/volumes")
KINDS = ("seed", "ours, CDS", "ours, KRAFT_CDS=off")
CDS_OFF = """\
env:
  - {name: KRAFT_CDS, value: "off"}
"""


@dataclass(frozen=True)
class Start:
    ready: float  # apply -> the last of the 3 pods Ready (its Ready condition's time)
    acked: float  # apply -> the first acks=all write acknowledged
    restarts: int


def build_seed_image(scratch: Path) -> str:
    """The seed's Dockerfile, its download URL pointed at the same tarball on a loopback server."""
    context = scratch / "seed-context"
    context.mkdir()
    tarball, _ = ch.pack_tarball(ch.kafka_dist(), scratch)
    shutil.copy(SEED / "entrypoint.sh", context / "entrypoint.sh")
    with ch.file_server(tarball.parent) as base:
        dockerfile = (SEED / "Dockerfile").read_text()
        if SEED_URL not in dockerfile:
            raise RuntimeError(f"the seed's Dockerfile no longer downloads {SEED_URL}")
        (context / "Dockerfile").write_text(dockerfile.replace(SEED_URL, f"{base}/{ch.TARBALL_NAME}"))
        ch.run(["podman", "build", "--isolation=chroot", "--network=host", "--tag",
                "localhost/kafka-kraft-seed", str(context)], timeout=1800)
    kh.k8s("load-image", "localhost/kafka-kraft-seed", SEED_IMAGE, timeout=600)
    return SEED_IMAGE


def seed_manifest(ns: str, image: str) -> str:
    """The seed's kafka.yaml as a user fills it in: the image, the namespace, and a hostPath of
    this namespace's own (cleaned up with it)."""
    text = (SEED / "kafka.yaml").read_text()
    host_dir = VOLUMES / ns / "seed-data"
    host_dir.mkdir(parents=True, exist_ok=True)
    host_dir.chmod(0o777)
    # the namespace first: the image name holds kafka-kraft too
    text = text.replace("$REGISTRY/kafka-kraft", "@IMAGE@").replace("kafka-kraft", ns)
    text = text.replace("@IMAGE@", image)
    text = text.replace("name: kafka-pv-volume\n", f"name: {ns}-seed\n")
    text = text.replace("    type: local\n", f"    type: local\n    kraft-entrypoint.local/namespace: {ns}\n")
    text = text.replace("path: '/mnt/data'", f"path: '{host_dir}'")
    return text


def one_start(kind: str, images: dict[str, str], scratch: Path, cap: float) -> Start:
    ns = kh.Namespace(f"bench-p3k-{re.sub(r'[^a-z]+', '', kind.lower())[:10]}")
    try:
        kh.kubectl("create", "namespace", ns.name)
        client = kh.Client(ns.name, images["ours"], bootstrap=",".join(
            f"kafka-{n}.kafka-svc.{ns.name}.svc.cluster.local:9092" for n in range(3)))
        if kind == "seed":
            manifest = scratch / f"{ns.name}.yaml"
            manifest.write_text(seed_manifest(ns.name, images["seed"]))
            apply = ["apply", "-f", str(manifest)]
        else:
            manifests = kh.prepare_manifests(scratch / ns.name, ns.name, kh.new_cluster_id(ch.IMAGE_TAG))
            target = manifests / "base"
            if kind == KINDS[2]:
                target = kh.patched_base(manifests, "cds-off", CDS_OFF)
            ns.volumes(*[f"data-kafka-{n}" for n in range(3)])
            apply = ["apply", "-k", str(target)]
        started, wall = time.monotonic(), time.time()
        kh.kubectl(*apply)
        # writes are tried from the apply on (the pods' own addresses need no readiness), so the
        # kubelet's probe period does not count; Ready is read afterwards from the pods' conditions
        acked = _first_write(client, started + cap)
        kh.wait_ready(ns.name, "kafka", 3, timeout=cap)
        return Start(_last_ready(ns.name) - wall, acked - started, _restarts(ns.name))
    finally:
        ns.close()


def _first_write(client: kh.Client, deadline: float) -> float:
    topic = ["kafka-topics.sh", "--bootstrap-server", client.bootstrap, "--create", "--if-not-exists",
             "--topic", "first", "--partitions", "1", "--replication-factor", "3",
             "--config", "min.insync.replicas=2"]
    topic_made = False
    while True:
        if not topic_made:
            topic_made = kh.exec_in(client.ns, client.name, *topic, check=False, timeout=120).returncode == 0
        try:
            if topic_made and client.produce("first", 1, prefix=1, timeout=120).acked:
                return time.monotonic()
        except AssertionError:  # the tool itself failed (no broker reachable yet): try again
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("no acks=all write acknowledged before the cap")
        time.sleep(1)


def _last_ready(ns: str) -> float:
    """When the last Kafka pod became Ready (epoch seconds, the API server's clock, 1 s steps)."""
    pods = json.loads(kh.kubectl("-n", ns, "get", "pods", "-o", "json").stdout)["items"]
    times = [condition["lastTransitionTime"] for pod in pods if pod["metadata"]["name"] != "kafka-test-client"
             for condition in pod["status"].get("conditions", []) if condition["type"] == "Ready"]
    return max(datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() for t in times)


def _restarts(ns: str) -> int:
    """Container restarts of the Kafka pods (every pod but the client's)."""
    out = kh.kubectl("-n", ns, "get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.name} "
                     '{.status.containerStatuses[0].restartCount}{"\\n"}{end}', check=False).stdout
    return sum(int(line.split()[1]) for line in out.splitlines()
               if len(line.split()) == 2 and not line.startswith("kafka-test-client"))


def run(report: Report, rounds: int, cap: float = 300) -> None:
    if not kh.cluster_is_up():
        report.note("P3K skipped: the cluster of scripts/k8s is not up (scripts/k8s up)")
        return
    results: dict[str, list[Start]] = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory(prefix="kraft-bench-p3k-") as scratch:
        images = {"ours": kh.load_project_image(Path(scratch)), "seed": build_seed_image(Path(scratch))}
        for i in range(rounds):
            for kind in KINDS[i % 3:] + KINDS[: i % 3]:
                start = one_start(kind, images, Path(scratch), cap)
                results[kind].append(start)
                report.line(f"P3K {kind}, round {i + 1}", f"Ready {start.ready:.1f} s, "
                            f"acked {start.acked:.1f} s, restarts {start.restarts}")
    for kind in KINDS[1:]:
        seed, ours = [s.acked for s in results["seed"]], [s.acked for s in results[kind]]
        report.add(Row("P3K", f"apply -> 3 pods -> RF=3 acks=all write acknowledged (real k8s), {kind}",
                       "seed", Summary.of(seed), Summary.of(ours), Summary.of(ratios(seed, ours)), "seed/us",
                       digits=1))


def main(argv: Optional[Sequence[str]] = None) -> None:
    standalone("python -m bench.k8s_start", __doc__, RESULTS / "k8s-start.md",
               lambda p: p.add_argument("--rounds", type=int, default=2, help="rounds of the three kinds"),
               lambda report, args: run(report, args.rounds), argv)


if __name__ == "__main__":
    main()
