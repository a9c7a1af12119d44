"""Kafka versions of the lab: which ones scripts/kafka-dist supports, fetching an installation,
reading a KAFKA_HOME's version from its libs/ (as the entrypoint does), and what differs between
3.x and 4.x for the lab: the KRaft template's place, the tools' log4j configuration, the probe
client compiled against that installation's own kafka-clients."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

from .util import LabError, run

REPO = Path(__file__).resolve().parents[1]
DIST_SCRIPT = REPO / "scripts" / "kafka-dist"
VERSIONS_FILE = REPO / "scripts" / "kafka-dist.d" / "versions.txt"
PROBE_SOURCE = Path(__file__).with_name("KraftProbe.java")

_CORE_JAR = re.compile(r"^kafka_2\.1[0-9]-(\d+\.\d+\.\d+)\.jar$")


def supported() -> list[str]:
    """The versions scripts/kafka-dist assembles, the default first (kafka-dist.d/versions.txt)."""
    versions = []
    for line in VERSIONS_FILE.read_text().splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            versions.append(fields[0])
    return versions


DEFAULT_VERSION = supported()[0]


def fetch_dist(version: Optional[str] = None) -> Path:
    """Run scripts/kafka-dist [VERSION] (its progress goes straight to our stderr); return KAFKA_HOME."""
    argv = [str(DIST_SCRIPT)] + ([version] if version else [])
    result = subprocess.run(argv, stdout=subprocess.PIPE, text=True, timeout=900, check=False)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise LabError(f"{' '.join(argv)} failed with exit {result.returncode}")
    home = Path(lines[-1])
    if not (home / "bin" / "kafka-server-start.sh").is_file():
        raise LabError(f"scripts/kafka-dist printed {home}, which is not a Kafka installation")
    if version and kafka_version(home) != version:
        raise LabError(f"scripts/kafka-dist {version} printed {home}, which holds {kafka_version(home)}")
    return home


def kafka_version(home: Path) -> str:
    """The version of the installation: the one of libs/kafka_2.1x-<version>.jar."""
    found = sorted({m.group(1) for p in (home / "libs").iterdir() if (m := _CORE_JAR.match(p.name))})
    if len(found) != 1:
        raise LabError(f"{home}/libs: expected one kafka_2.1x-<version>.jar, found {found or 'none'}")
    return found[0]


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def major(home: Path) -> int:
    return version_key(kafka_version(home))[0]


def feature_level(version: str) -> str:
    """``major.minor`` of a version: what ``kafka-features.sh upgrade --metadata`` takes."""
    return ".".join(version.split(".")[:2])


def template_path(home: Path) -> Path:
    """The KRaft template of the installation: config/kraft/server.properties up to 3.x,
    config/server.properties from 4.0 (where 3.x keeps its ZooKeeper-mode template)."""
    if major(home) >= 4:
        return home / "config" / "server.properties"
    return home / "config" / "kraft" / "server.properties"


def tools_log4j_opts(home: Path) -> str:
    """The JVM option that points a command-line client at the installation's tools logging."""
    if major(home) >= 4:
        return f"-Dlog4j2.configurationFile={home}/config/tools-log4j2.yaml"
    return f"-Dlog4j.configuration=file:{home}/config/tools-log4j.properties"


def compile_probe(kafka_home: Path) -> Path:
    """Compile KraftProbe.java against the distribution's jars, cached per version and source."""
    digest = hashlib.sha256(PROBE_SOURCE.read_bytes()).hexdigest()[:16]
    out = kafka_home.parent / f"kraftprobe-{kafka_version(kafka_home)}-{digest}"
    if (out / "KraftProbe.class").is_file():
        return out
    javac = shutil.which("javac")
    if javac is None:
        raise LabError("javac (a JDK) is needed to build the test client: apt-get install default-jdk")
    tmp = Path(tempfile.mkdtemp(prefix=".kraftprobe-", dir=kafka_home.parent))
    try:
        run([javac, "-cp", f"{kafka_home}/libs/*", "-d", str(tmp), str(PROBE_SOURCE)], timeout=180)
        try:
            tmp.rename(out)
        except OSError:
            if not (out / "KraftProbe.class").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
