"""The real Kubernetes of ``scripts/k8s`` for tests/k8s and the bench: the cluster itself,
namespaces with their own volumes, the manifests as a user prepares them.

Nothing is imitated: the pods are scheduled by kube-scheduler, started by the kubelet in
containerd, find each other through CoreDNS and reach Services through kube-proxy. The API:

* ``kubectl(*args)``: kubectl 1.34 on the cluster (``scripts/k8s kubectl``), checked.
* ``Namespace``: a fresh namespace with hostPath PersistentVolumes pre-bound to its claims;
  ``close()`` deletes the StatefulSets with a short grace period, then the namespace and volumes.
* ``prepare_manifests(dest, namespace, cluster_id)``: a copy of ``k8s/`` with the example cluster
  id replaced (README step 3) and ``kafka-kraft`` renamed to the scenario's namespace.
* ``wait_ready(ns, statefulset, replicas)``: every pod of the StatefulSet Ready; seconds taken.
* ``REPORT``: timings and figures shown in the run's summary.

Clients (Kafka's own tools in a client pod) are in ``kraftlab.k8s.clients``.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from kraftlab import container as ch

REPO = Path(__file__).resolve().parents[2]
K8S_SCRIPT = REPO / "scripts" / "k8s"
MANIFESTS = REPO / "k8s"
#: The image line of the manifests; the test image is loaded into containerd under this name.
MANIFEST_IMAGE = "localhost/kafka-kraft:0.1.0"
#: The example id of the manifests' Secret, which the README tells users to replace.
EXAMPLE_CLUSTER_ID = "59AQxW_URq66JWEb-dMvUA"
DATA_DIR = "/var/lib/kafka/data/kraft"
KAFKA_PORT = 9092


def log(message: str) -> None:
    """Progress of the (long) scenarios, visible with ``pytest -s``."""
    print(f"[k8s] {message}", file=sys.stderr, flush=True)


class Report:
    """Timings and figures, logged as they come and printed at the end of the run."""

    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []
        self.figures: list[str] = []

    def time(self, label: str, seconds: float) -> None:
        self.timings.append((label, seconds))
        log(f"{label}: {seconds:.1f}s")

    def figure(self, text: str) -> None:
        self.figures.append(text)
        log(text)


REPORT = Report()


def run(argv: Sequence[str], *, timeout: float = 120, check: bool = True,
        stdin: Optional[str] = None) -> subprocess.CompletedProcess[str]:
    """A bounded subprocess; on failure the assertion shows the command and its output."""
    proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {proc.returncode}\n"
                             f"stdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}")
    return proc


def k8s(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """``scripts/k8s ARGS`` (up, down, status, load-image, volumes, ...)."""
    return run([str(K8S_SCRIPT), *args], timeout=timeout)


def kubectl(*args: str, timeout: float = 120, check: bool = True,
            stdin: Optional[str] = None) -> subprocess.CompletedProcess[str]:
    """kubectl on the cluster of scripts/k8s."""
    return run([str(K8S_SCRIPT), "kubectl", *args], timeout=timeout, check=check, stdin=stdin)


def cluster_is_up() -> bool:
    """Every piece of scripts/k8s runs (``scripts/k8s status`` exits 0)."""
    return run([str(K8S_SCRIPT), "status"], check=False, timeout=60).returncode == 0


def new_cluster_id(image: str) -> str:
    """A fresh cluster id made by the image's own entrypoint, as the README's step 3 does."""
    # podman's default rlimits exceed what this machine allows (as in the container tests).
    proc = run(["podman", "run", "--rm", "--runtime", "runc", "--ulimit", "nofile=20000:20000",
                "--ulimit", "nproc=32768:32768", "--network", "none", image, "--new-cluster-id"],
               timeout=120)
    cluster_id = proc.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id), proc.stdout
    return cluster_id


def prepare_manifests(dest: Path, namespace: str, cluster_id: str) -> Path:
    """A copy of ``k8s/`` under ``dest`` as a user prepares it: the example cluster id replaced
    (README step 3) and the namespace ``kafka-kraft`` renamed to ``namespace`` (its objects,
    ``namespace:`` fields and DNS names; labels such as ``part-of: kafka-kraft`` and the image
    name stay). Returns the copy's ``k8s`` directory."""
    root = dest / "k8s"
    shutil.copytree(MANIFESTS, root, symlinks=True)
    for path in root.rglob("*.yaml"):
        if path.is_symlink():
            continue
        text = path.read_text()
        new = re.sub(r"^(\s*(?:- )?(?:namespace|name): )kafka-kraft$", rf"\g<1>{namespace}", text,
                     flags=re.MULTILINE)
        new = new.replace(".kafka-kraft.svc", f".{namespace}.svc")
        new = new.replace(f"CLUSTER_ID: {EXAMPLE_CLUSTER_ID}", f"CLUSTER_ID: {cluster_id}")
        path.write_text(new)
    assert EXAMPLE_CLUSTER_ID not in (root / "base" / "kafka.yaml").read_text()
    return root


#: One scenario at a time on the node, across processes: its 2 CPUs fit 8 Kafka pods' requests
#: (250m each), so two test runs sharing the cluster would leave each other's pods Pending.
SCENARIO_LOCK = Path("/run/kraft-entrypoint-k8s/scenario.lock")
_held: list[int] = []


def _lock_cluster() -> None:
    if _held:
        _held.append(_held[-1])
        return
    fd = os.open(SCENARIO_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("waiting for another test run's scenario to finish on the cluster")
        fcntl.flock(fd, fcntl.LOCK_EX)
    _held.append(fd)


def _unlock_cluster() -> None:
    fd = _held.pop()
    if not _held:
        os.close(fd)


class Namespace:
    """A fresh namespace for one scenario, with hostPath volumes pre-bound to its claims. The
    scenario holds the cluster (SCENARIO_LOCK) from here to ``close()``."""

    def __init__(self, prefix: str) -> None:
        self.name = f"{prefix}-{uuid.uuid4().hex[:5]}"
        _lock_cluster()

    def volumes(self, *claims: str) -> None:
        """One PersistentVolume for each claim (e.g. ``data-kafka-0``) of this namespace."""
        k8s("volumes", self.name, *claims, timeout=120)

    def close(self) -> None:
        """StatefulSets deleted with a 5 s grace period (a namespace deletion would wait out the
        pods' 120 s), then the namespace, then its volumes and their directories."""
        started = time.monotonic()
        try:
            if kubectl("get", "namespace", self.name, check=False).returncode == 0:
                kubectl("-n", self.name, "delete", "statefulset", "--all", "--grace-period=5",
                        "--wait=true", timeout=300, check=False)
                kubectl("-n", self.name, "delete", "pod", "--all", "--grace-period=5",
                        "--wait=true", timeout=300, check=False)
                kubectl("delete", "namespace", self.name, "--wait=true", timeout=300)
            k8s("volumes", "--delete", self.name, timeout=300)
        finally:
            _unlock_cluster()
        log(f"namespace {self.name} deleted ({time.monotonic() - started:.1f}s)")


def wait_ready(ns: str, statefulset: str, replicas: int, timeout: float = 600) -> float:
    """Waits until the StatefulSet has ``replicas`` pods, all Ready and of its current revision;
    returns the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        proc = kubectl("-n", ns, "get", "statefulset", statefulset, "-o", "json", check=False)
        if proc.returncode == 0:
            status = json.loads(proc.stdout).get("status", {})
            if (status.get("readyReplicas", 0) == replicas and status.get("replicas") == replicas
                    and status.get("updatedReplicas", 0) == replicas
                    and status.get("currentRevision") == status.get("updateRevision")):
                return time.monotonic() - started
        if time.monotonic() > deadline:
            pods = kubectl("-n", ns, "get", "pods", "-o", "wide", check=False).stdout
            unscheduled = kubectl("-n", ns, "get", "events", "--field-selector", "reason=FailedScheduling",
                                  "-o", "custom-columns=OBJECT:.involvedObject.name,MESSAGE:.message",
                                  check=False).stdout
            raise AssertionError(f"{ns}/{statefulset}: not {replicas} Ready after {timeout}s\n{pods}"
                                 f"\nFailedScheduling events:\n{unscheduled}")
        time.sleep(1)


def pod_ready(ns: str, pod: str) -> bool:
    """The pod exists and its Ready condition is True."""
    proc = kubectl("-n", ns, "get", "pod", pod, "-o",
                   "jsonpath={.status.conditions[?(@.type=='Ready')].status}", check=False)
    return proc.returncode == 0 and proc.stdout.strip() == "True"


def pod_uid(ns: str, pod: str) -> str:
    return kubectl("-n", ns, "get", "pod", pod, "-o", "jsonpath={.metadata.uid}").stdout.strip()


def exec_in(ns: str, pod: str, *argv: str, timeout: float = 120,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    """``kubectl exec`` of an argument list in the pod's first container."""
    return kubectl("-n", ns, "exec", pod, "--", *argv, timeout=timeout, check=check)


def meta_properties(ns: str, pod: str) -> dict[str, str]:
    """The pod's ``meta.properties`` (cluster.id, node.id, version) from its data volume."""
    text = exec_in(ns, pod, "cat", f"{DATA_DIR}/meta.properties").stdout
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def is_root() -> bool:
    return os.geteuid() == 0


def load_project_image(scratch: Path) -> str:
    """The image of docker/Dockerfile (openjdk:11 stand-in, the Kafka tarball packed from
    scripts/kafka-dist on a loopback file server, as the container tests build it) in the cluster's
    containerd under the manifests' image name, which it returns. ``scratch``: for the tarball."""
    started = time.monotonic()
    ch.ensure_base_image()
    tarball, digest = ch.pack_tarball(ch.kafka_dist(), scratch)
    with ch.file_server(tarball.parent) as base:
        ch.build_image(ch.IMAGE_TAG, kafka_url=f"{base}/{ch.TARBALL_NAME}", kafka_sha512=digest)
    REPORT.time("image built (podman, cached layers after the first run)", time.monotonic() - started)
    started = time.monotonic()
    k8s("load-image", ch.IMAGE_TAG, MANIFEST_IMAGE, timeout=600)
    REPORT.time("image loaded into containerd", time.monotonic() - started)
    return MANIFEST_IMAGE


def patched_base(manifests: Path, name: str, kafka_container: str) -> Path:
    """A kustomize overlay ``manifests/name`` of the prepared ``base`` with one strategic merge
    patch of the StatefulSet ``kafka``'s container ``kafka``: ``kafka_container`` is the YAML of its
    fields (unindented). Matched by a target, so the patch needs no namespace."""
    overlay = manifests / name
    overlay.mkdir()
    fields = "".join(f"          {line}\n" for line in kafka_container.splitlines())
    (overlay / "patch.yaml").write_text(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: kafka}\n"
        "spec:\n  template:\n    spec:\n      containers:\n        - name: kafka\n" + fields)
    (overlay / "kustomization.yaml").write_text(
        "resources: [../base]\n"
        "patches:\n  - path: patch.yaml\n    target: {kind: StatefulSet, name: kafka}\n")
    return overlay


def component_overlay(manifests: Path, component: str) -> Path:
    """An overlay ``manifests/overlays/<component>-scenario`` of the prepared ``base`` with
    ``components/<component>``, as a user's own kustomization.yaml adds it."""
    directory = manifests / "overlays" / f"{component}-scenario"
    directory.mkdir()
    (directory / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources:\n  - ../../base\ncomponents:\n  - ../../components/{component}\n"
    )
    return directory
