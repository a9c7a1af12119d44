"""Real container tooling for the image tests and the P5/P6 bench: podman, the Kafka tarball,
a loopback file server.

Nothing here is mocked. The image is built with podman from ``docker/Dockerfile`` unchanged;
the only stand-ins are the ones the environment forces on us and that the tests say so:

* ``openjdk:11`` is made locally by ``scripts/base-image`` (no image registry is reachable);
* the Kafka 3.3.2 tarball is packed from ``scripts/kafka-dist``'s installation (assembled
  from Maven Central) and served on 127.0.0.1, because the Apache archive is not reachable.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from .util import run
from .versions import REPO

DOCKERFILE = REPO / "docker" / "Dockerfile"
MANIFEST = REPO / "k8s" / "kafka.yaml"
SHARED_MANIFEST = REPO / "k8s" / "kafka-shared-volume.yaml"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kraft-entrypoint"

KAFKA_DIR_NAME = "kafka_2.13-3.3.2"
TARBALL_NAME = f"{KAFKA_DIR_NAME}.tgz"
BASE_IMAGE = "docker.io/library/openjdk:11"
#: The tag the container tests build. Kept after the run: podman's storage is the build cache.
IMAGE_TAG = "localhost/kraft-entrypoint/kafka-kraft:test"
#: The Java 17 base (``scripts/base-image 17``) and the image built on it.
BASE_IMAGE_17 = "docker.io/library/eclipse-temurin:17-jre"
IMAGE_TAG_17 = "localhost/kraft-entrypoint/kafka-kraft:test-jdk17"
#: The default image built with ``CDS_ARCHIVES=off``.
IMAGE_TAG_NO_CDS = "localhost/kraft-entrypoint/kafka-kraft:test-no-cds"

#: Options every ``podman run`` needs here: this machine does not allow raising rlimits
#: above the defaults runc would otherwise set, and runc is the runtime Debian ships.
PODMAN_RUN_OPTS: tuple[str, ...] = (
    "--runtime",
    "runc",
    "--ulimit",
    "nofile=20000:20000",
    "--ulimit",
    "nproc=32768:32768",
)


#: One pod of k8s/kafka.yaml reduced to a single voter, with the manifest's example cluster id and
#: no heap (each user sets its own): the CDS tests and the P5/P6 bench start it.
SINGLE_POD_FQDN = "kafka-0.kafka-svc.kafka-kraft.svc.cluster.local"
SINGLE_POD_ENV = {
    "HOSTNAME": "kafka-0",
    "REPLICAS": "1",
    "SERVICE": "kafka-svc",
    "NAMESPACE": "kafka-kraft",
    "CLUSTER_ID": "59AQxW_URq66JWEb-dMvUA",
    "DATA_DIR": "/var/lib/kafka/data/kraft",
}


def single_pod_options(env: Mapping[str, str]) -> list[str]:
    """``podman run``/``create`` options for that pod: no network, the pod's hostname with its FQDN
    on loopback, and its environment (``env`` on top of SINGLE_POD_ENV)."""
    options = [*PODMAN_RUN_OPTS, "--network", "none", "--hostname", "kafka-0",
               "--add-host", f"{SINGLE_POD_FQDN}:127.0.0.1"]
    for key, value in {**SINGLE_POD_ENV, **env}.items():
        options += ["--env", f"{key}={value}"]
    return options

def log(message: str) -> None:
    """Progress for the (long) container tests, visible with ``pytest -s``."""
    print(f"[container] {message}", file=sys.stderr, flush=True)


def ensure_base_image() -> None:
    """Install podman & co. if missing and make the openjdk:11 stand-in (cached)."""
    run([str(REPO / "scripts" / "container-tools")], timeout=900)
    run([str(REPO / "scripts" / "base-image")], timeout=1800)


def kafka_dist() -> Path:
    """The Kafka installation from ``scripts/kafka-dist`` (last stdout line is its path)."""
    proc = run([str(REPO / "scripts" / "kafka-dist")], timeout=1800)
    lines = proc.stdout.strip().splitlines()
    assert lines, f"scripts/kafka-dist printed no path; stderr:\n{proc.stderr[-2000:]}"
    dist = Path(lines[-1])
    assert (dist / "bin" / "kafka-server-start.sh").is_file(), dist
    return dist


def pack_tarball(dist: Path, dest_dir: Path, name: str = KAFKA_DIR_NAME) -> tuple[Path, str]:
    """Pack ``dist`` as ``<name>.tgz`` (``kafka_2.13-3.3.2.tgz``) laid out like the official tarball.

    The archive is reproducible (sorted names, fixed mtimes and owners, no dotfiles), so
    the same installation gives the same SHA-512 and podman can reuse its build cache.
    Returns the tarball's path and its SHA-512 (lower-case hex).
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"{name}.tgz"
    tmp = target.with_suffix(".tmp")

    def members() -> Iterator[Path]:
        for root, dirs, files in os.walk(dist):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            yield Path(root)
            for name in sorted(files):
                if not name.startswith("."):
                    yield Path(root) / name

    with (
        tmp.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in members():
            rel = path.relative_to(dist).as_posix()
            arcname = name if rel == "." else f"{name}/{rel}"
            info = tar.gettarinfo(str(path), arcname=arcname)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
            if info.isfile():
                with path.open("rb") as fh:
                    tar.addfile(info, fh)
            else:
                tar.addfile(info)
    os.replace(tmp, target)
    digest = hashlib.sha512(target.read_bytes()).hexdigest()
    return target, digest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def file_server(directory: Path, *, lifetime: int = 3600) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 with ``python3 -m http.server``; yields the base URL.

    The server's life is bounded twice: ``timeout`` kills it after ``lifetime`` seconds
    even if this process dies, and it is terminated when the context exits.
    """
    port = free_port()
    proc = subprocess.Popen(
        [
            "timeout",
            str(lifetime),
            sys.executable,
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "--directory",
            str(directory),
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=2):  # noqa: S310 - loopback
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"file server on {url} did not come up") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def host_ca_bundle() -> str | None:
    """The host's CA bundle when the environment names one (PIP_CERT, SSL_CERT_FILE).

    Machines behind a TLS-intercepting proxy trust its CA only in the host's bundle. For
    ``podman build`` the bundle is bind-mounted over the build containers' own
    ``/etc/ssl/certs/ca-certificates.crt`` (RUN steps only; nothing of it lands in the image),
    so pip in the wheels stage can reach PyPI. The Dockerfile stays unchanged.
    """
    for var in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        value = os.environ.get(var)
        if value and Path(value).is_file():
            return value
    return None


def build_image(
    tag: str,
    *,
    kafka_url: str,
    kafka_sha512: str | None,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    timeout: float = 1800,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """``podman build`` of ``docker/Dockerfile`` (unchanged) from the repository root.

    ``kafka_sha512=None`` passes no KAFKA_SHA512, so the Dockerfile's pinned default applies.
    """
    argv = [
        "podman",
        "build",
        "--isolation=chroot",
        "--network=host",
        "--file",
        str(DOCKERFILE),
        "--build-arg",
        f"KAFKA_URL={kafka_url}",
        "--tag",
        tag,
    ]
    if kafka_sha512 is not None:
        argv += ["--build-arg", f"KAFKA_SHA512={kafka_sha512}"]
    for key, value in (build_args or {}).items():
        argv += ["--build-arg", f"{key}={value}"]
    ca_bundle = host_ca_bundle()
    if ca_bundle:
        argv += ["--volume", f"{ca_bundle}:/etc/ssl/certs/ca-certificates.crt:ro"]
    if target:
        argv += ["--target", target]
    argv.append(str(REPO))
    return run(argv, timeout=timeout, check=check)


def image_config(tag: str) -> dict[str, object]:
    """The image's OCI config (``podman image inspect``)."""
    import json

    proc = run(["podman", "image", "inspect", tag], timeout=60)
    data = json.loads(proc.stdout)
    assert isinstance(data, list), proc.stdout
    assert data, proc.stdout
    first = data[0]
    assert isinstance(first, dict)
    return first
