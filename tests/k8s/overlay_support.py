"""What the overlay scenarios of tests/k8s need beyond kraftlab.k8s: the Kafka 4.4.0 image of the
dynamic overlay, Kafka's tools run with a client configuration or from the host, volumes for
both StatefulSets of the dedicated layout, cert-manager's CRDs from its Go module, and the Secret
cert-manager would make for the secure overlay's Certificate.

* ``image_4x`` (session fixture): docker/Dockerfile with ``KAFKA_VERSION=4.4.0`` on the Java 17
  stand-in base, built as tests/container builds it, loaded into containerd under the name the
  dynamic overlay's ``images:`` entry gives (``localhost/kafka-kraft:0.1.0-kafka-4.4.0``).
* ``apply_overlay(ns, manifests, overlay, claims)``: volumes, ``kubectl apply -k``; seconds.
* ``tool(ns, pod, *argv)``: a Kafka tool in a pod with a small heap (the pods' own
  ``KAFKA_HEAP_OPTS`` is the broker's 512 MiB).
* ``put_file(ns, pod, path, text)``: a file written into a pod (``kubectl exec -i``).
* ``HostKafka``: Kafka 3.3.2 from scripts/kafka-dist, its tools run on this host (not in a pod).
* ``cert_manager_crds()``: the directory of ``deploy/crds`` in the cert-manager module.
* ``tls_secret_yaml(...)``: the ``kubernetes.io/tls`` Secret cert-manager's CA issuer makes.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Optional, TypeVar

import pytest

from kraftlab import container as ch
from kraftlab import fetch_dist
from kraftlab import k8s as kh

KAFKA_4X = "4.4.0"
#: The tag of the Kafka 4.4.0 image on the Java 17 stand-in (podman's cache is shared).
IMAGE_4X_TAG = f"localhost/kraft-entrypoint/kafka-kraft:test-kafka-{KAFKA_4X}"
#: What k8s/overlays/dedicated-controllers-dynamic's ``images:`` entry makes of the image line.
IMAGE_4X_NAME = f"localhost/kafka-kraft:0.1.0-kafka-{KAFKA_4X}"
#: cert-manager's root module on the Go module proxy; its deploy/crds holds the CRDs.
CERT_MANAGER_MODULE = "github.com/cert-manager/cert-manager@v1.21.2"
TOOL_HEAP = "-Xmx192m"

T = TypeVar("T")


@pytest.fixture(scope="session")
def image_4x(cluster: None, report: kh.Report) -> str:
    """docker/Dockerfile with KAFKA_VERSION=4.4.0 on the eclipse-temurin:17-jre stand-in, from a
    tarball packed from scripts/kafka-dist 4.4.0 on a loopback file server, in containerd as the
    dynamic overlay's image."""
    started = time.monotonic()
    kh.run([str(kh.REPO / "scripts" / "container-tools")], timeout=900)
    kh.run([str(kh.REPO / "scripts" / "base-image"), "17"], timeout=1800)
    tarball, digest = ch.pack_tarball(fetch_dist(KAFKA_4X), ch.CACHE / f"tarball-{KAFKA_4X}",
                                      f"kafka_2.13-{KAFKA_4X}")
    with ch.file_server(tarball.parent) as base:
        ch.build_image(IMAGE_4X_TAG, kafka_url=f"{base}/{tarball.name}", kafka_sha512=digest,
                       build_args={"KAFKA_VERSION": KAFKA_4X, "BASE_IMAGE": ch.BASE_IMAGE_17})
    report.time(f"image of Kafka {KAFKA_4X} built (Java 17 base)", time.monotonic() - started)
    started = time.monotonic()
    kh.k8s("load-image", IMAGE_4X_TAG, IMAGE_4X_NAME, timeout=600)
    report.time(f"image of Kafka {KAFKA_4X} loaded into containerd", time.monotonic() - started)
    return IMAGE_4X_NAME


def claims(statefulset: str, count: int) -> list[str]:
    """The claims of ``count`` pods of a StatefulSet whose volumeClaimTemplate is ``data``."""
    return [f"data-{statefulset}-{n}" for n in range(count)]


def apply_overlay(ns: kh.Namespace, manifests: Path, overlay: str, volume_claims: Sequence[str]) -> None:
    """Volumes for ``volume_claims``, then ``kubectl apply -k k8s/overlays/<overlay>``."""
    ns.volumes(*volume_claims)
    kh.kubectl("apply", "-k", str(manifests / "overlays" / overlay))


def tool(ns: str, pod: str, *argv: str, timeout: float = 180,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    """A Kafka tool in ``pod`` with a small heap: a pod's own KAFKA_HEAP_OPTS is the server's."""
    return kh.exec_in(ns, pod, "env", f"KAFKA_HEAP_OPTS={TOOL_HEAP}", *argv, timeout=timeout,
                      check=check)


def put_file(ns: str, pod: str, path: str, text: str) -> None:
    """``text`` written to ``path`` in the pod (through stdin: no secret on a command line)."""
    kh.kubectl("-n", ns, "exec", "-i", pod, "--", "sh", "-c", f"umask 077 && cat > {path}",
               stdin=text)


def restarts(ns: str, selector: str) -> dict[str, int]:
    """Container restarts per pod of the selector."""
    pods = json.loads(kh.kubectl("-n", ns, "get", "pods", "-l", selector, "-o", "json").stdout)
    return {pod["metadata"]["name"]: sum(c.get("restartCount", 0)
                                         for c in pod["status"].get("containerStatuses", []))
            for pod in pods["items"]}


def wait_for(what: str, check: Callable[[], Optional[T]], timeout: float, every: float = 3) -> T:
    """Polls ``check`` until it returns something other than None (or False); that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s"
        time.sleep(every)


class HostKafka:
    """Kafka 3.3.2 installed by scripts/kafka-dist, its tools run on this host with the host's
    Java: a client outside Kubernetes."""

    def __init__(self, workdir: Path) -> None:
        self.home = fetch_dist("3.3.2")
        self.env = {**os.environ, "KAFKA_HEAP_OPTS": "-Xmx256m", "LOG_DIR": str(workdir)}

    def run(self, script: str, *args: str, stdin: Optional[str] = None, timeout: float = 180,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(self.home / "bin" / script), *args]
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout,
                              env=self.env, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {proc.returncode}\n"
                                 f"stdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}")
        return proc


def cert_manager_crds() -> Path:
    """``deploy/crds`` of cert-manager's root module, downloaded by ``go mod download`` (the
    controller's own module is not served by the proxy; the CRDs are in the root module)."""
    go = os.environ.get("GO") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").is_file() else "go")
    with tempfile.TemporaryDirectory() as scratch:  # outside any module
        proc = subprocess.run([go, "mod", "download", "-json", CERT_MANAGER_MODULE], cwd=scratch,
                              capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, f"go mod download {CERT_MANAGER_MODULE}: {proc.stdout}{proc.stderr}"
    crds = Path(json.loads(proc.stdout)["Dir"]) / "deploy" / "crds"
    assert (crds / "cert-manager.io_certificates.yaml").is_file(), crds
    return crds


def tls_secret_yaml(name: str, namespace: str, data: Mapping[str, bytes],
                    labels: Mapping[str, str]) -> str:
    """A ``kubernetes.io/tls`` Secret as cert-manager writes it for a Certificate (tls.crt with
    the chain, tls.key, ca.crt; the Certificate's ``secretTemplate`` labels)."""
    secret = {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "data": {key: base64.b64encode(value).decode() for key, value in data.items()},
    }
    return json.dumps(secret)


def rendered(manifests: Path, overlay: str) -> list[dict[str, object]]:
    """``kubectl kustomize k8s/overlays/<overlay>`` parsed."""
    import yaml

    text = kh.kubectl("kustomize", str(manifests / "overlays" / overlay)).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(docs: Sequence[Mapping[str, object]], kind: str, name: str) -> Mapping[str, object]:
    for doc in docs:
        meta = doc.get("metadata")
        if doc.get("kind") == kind and isinstance(meta, Mapping) and meta.get("name") == name:
            return doc
    raise AssertionError(f"no {kind} {name} in the rendered overlay")


def lines(text: str) -> Iterator[str]:
    return (line for line in text.splitlines() if line.strip())



def user_made_tls_files(workdir: Path, namespace: str) -> Path:
    """The files of Secret kafka-tls made with openssl as k8s/README.md shows a user without
    cert-manager: a CA, a node certificate for the names of certificate.yaml (the pod wildcard and
    the client Service; server and client use) with an unencrypted PKCS#8 key, tls.crt = the
    node certificate then the CA. Returns the directory holding ca.crt, tls.crt and tls.key."""
    workdir.mkdir(parents=True)
    ext = (f"subjectAltName = DNS:*.kafka-svc.{namespace}.svc.cluster.local, "
           f"DNS:kafka-client.{namespace}.svc.cluster.local, DNS:kafka-client.{namespace}.svc\n"
           "extendedKeyUsage = serverAuth, clientAuth\n"
           "keyUsage = critical, digitalSignature, keyEncipherment\n")
    (workdir / "node.ext").write_text(ext)
    for argv in (
        ["req", "-x509", "-newkey", "rsa:3072", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
         "-days", "3650", "-subj", "/O=kafka-kraft/CN=kafka-kraft-ca"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tls.key", "-out", "tls.csr",
         "-subj", f"/O=kafka-kraft/CN=kafka-svc.{namespace}.svc.cluster.local"],
        ["x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", "90", "-sha256", "-extfile", "node.ext", "-out", "node.crt"],
    ):
        proc = subprocess.run(["openssl", *argv], cwd=workdir, capture_output=True, text=True,
                              timeout=120, check=False)
        assert proc.returncode == 0, f"openssl {' '.join(argv)}: {proc.stderr}"
    (workdir / "tls.crt").write_bytes((workdir / "node.crt").read_bytes() + (workdir / "ca.crt").read_bytes())
    assert (workdir / "tls.key").read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    return workdir
