"""A fake KAFKA_HOME whose scripts record their calls, and the real program run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

STORAGE_SCRIPT = r"""#!/bin/sh
# Fake kafka-storage.sh: records its arguments, then formats like Kafka 3.3 does.
calls="$(dirname "$0")/../calls"
n=$(ls "$calls" | grep -c '^storage\.' || true)
printf '%s\n' "$@" > "$calls/storage.$n"
env > "$calls/format-env.$n"
echo "fake kafka-storage.sh: formatting"
if [ -n "$FAKE_FORMAT_FAIL" ]; then echo "fake format failed: $FAKE_FORMAT_FAIL"; exit 1; fi
config=""; id=""
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="$2"; shift ;;
    --cluster-id=*) id="${1#--cluster-id=}" ;;
  esac
  shift
done
dirs=$(sed -n 's/^log\.dirs=//p' "$config" | sed 's/\\:/:/g; s/\\=/=/g')
node=$(sed -n 's/^node\.id=//p' "$config")
for dir in $(echo "$dirs" | tr ',' ' '); do
  mkdir -p "$dir"
  printf '#\n#Tue Jan 10 12:00:00 UTC 2023\nnode.id=%s\nversion=1\ncluster.id=%s\n' "$node" "$id" \
    > "$dir/meta.properties"
done
"""

START_SCRIPT = r"""#!/bin/sh
# Fake kafka-server-start.sh: records its pid, arguments and environment.
calls="$(dirname "$0")/../calls"
echo $$ > "$calls/server.pid"
printf '%s\n' "$@" > "$calls/server.args"
env > "$calls/server.env"
n=$(ls "$calls" | grep -c '^server\.start' || true)
touch "$calls/server.start.$n"
exit 0
"""


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: bytes
    stderr: str
    pid: int


@dataclass(frozen=True)
class FakeKafka:
    root: Path  # tmp_path: kafka/ (the fake home), share/, config/

    @property
    def home(self) -> Path:
        return self.root / "kafka"

    @property
    def calls(self) -> Path:
        return self.home / "calls"

    @property
    def share(self) -> Path:
        return self.root / "share"

    @property
    def config(self) -> Path:
        return self.root / "config" / "server.properties"

    @classmethod
    def create(cls, root: Path, template: Path) -> FakeKafka:
        fake = cls(root)
        (fake.home / "bin").mkdir(parents=True)
        (fake.home / "config" / "kraft").mkdir(parents=True)
        fake.calls.mkdir()
        fake.share.mkdir()
        (fake.home / "config" / "kraft" / "server.properties").write_bytes(template.read_bytes())
        fake.install("3.3.2")
        for name, text in (("kafka-storage.sh", STORAGE_SCRIPT), ("kafka-server-start.sh", START_SCRIPT)):
            script = fake.home / "bin" / name
            script.write_text(text)
            script.chmod(0o755)
        return fake

    def install(self, version: str, content: bytes = b"") -> None:
        """Make the fake home an installation of Kafka ``version``: libs/ holds its broker jar
        (the only thing the entrypoint reads the version from), replacing any other."""
        libs = self.home / "libs"
        libs.mkdir(exist_ok=True)
        for jar in libs.glob("kafka_2.13-*.jar"):
            jar.unlink()
        (libs / f"kafka_2.13-{version}.jar").write_bytes(content)

    def env(self, base: dict[str, str], **changes: str) -> dict[str, str]:
        env = {
            **base,
            "HOSTNAME": "kafka-0",
            "REPLICAS": "3",
            "SERVICE": "kafka-svc",
            "NAMESPACE": "kafka-kraft",
            "SHARE_DIR": str(self.share),
            "KAFKA_HOME": str(self.home),
            "KRAFT_CONFIG": str(self.config),
            "CLUSTER_ID_TIMEOUT": "5",
            "MEMORY_LIMIT": "2Gi",  # as the manifests give it: the heap never depends on this machine
        }
        env.update(changes)
        return env

    def format_calls(self) -> list[list[str]]:
        return [
            (self.calls / name).read_text().splitlines()
            for name in sorted(os.listdir(self.calls))
            if name.startswith("storage.")
        ]

    def server_starts(self) -> int:
        return sum(1 for name in os.listdir(self.calls) if name.startswith("server.start."))


def popen(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kraft_entrypoint", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )


def run(args: list[str], env: dict[str, str], timeout: float = 30) -> Run:
    process = popen(args, env)
    stdout, stderr = process.communicate(timeout=timeout)
    return Run(process.returncode, stdout, stderr.decode("utf-8", "replace"), process.pid)


def meta_properties(directory: Path, cluster_id: str, node_id: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "meta.properties").write_text(
        f"#\n#Tue Jan 10 12:00:00 UTC 2023\nnode.id={node_id}\nversion=1\ncluster.id={cluster_id}\n"
    )


def tree(root: Path) -> list[tuple[str, bytes, int]]:
    """Names, contents and mtimes of everything under root (empty if root is missing)."""
    if not root.exists():
        return []
    return [
        (str(p.relative_to(root)), p.read_bytes() if p.is_file() else b"<dir>", p.lstat().st_mtime_ns)
        for p in sorted([root, *root.rglob("*")])
    ]


def read_optional(path: Path) -> Optional[str]:
    return path.read_text() if path.exists() else None
