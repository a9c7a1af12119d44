"""KAFKA_HOME overlays of the real distribution (scripts/kafka-dist) for the benchmarks.

- ``stub_home``: the real bin/ (kafka-storage.sh runs the real JVM StorageTool), config/ copied,
  libs/ linked, but ``kafka-server-start.sh`` exits at once: container start -> exec of the server
  is then the entrypoint's own cost (P1, P2).
- ``instrumented_home``: the real tools, wrapped so that every kafka-storage.sh call (begin, end,
  exit code, sub-command) and every kafka-server-start.sh exec is appended with a wall-clock
  timestamp and $HOSTNAME to an events file (P3 timelines; the seed and we go through the same
  wrappers).
- ``cds_dist``: a copy of the distribution with class-data sharing archives for this machine's JDK
  in ``cds/``, made by ``kraft_entrypoint.cds_build`` as the image build makes them (P3 with CDS).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kraft-entrypoint"
SEED_ENTRYPOINT = REPO / "tests" / "fixtures" / "seed" / "entrypoint.sh"


def kafka_dist() -> Path:
    """The real Kafka 3.3.2 installation (scripts/kafka-dist: last stdout line, cached)."""
    result = subprocess.run([str(REPO / "scripts" / "kafka-dist")], stdout=subprocess.PIPE, text=True,
                            check=True, timeout=1800)
    return Path(result.stdout.strip().splitlines()[-1])


def _overlay(dist: Path, home: Path) -> Path:
    home.mkdir(parents=True)
    shutil.copytree(dist / "bin", home / "bin")
    shutil.copytree(dist / "config", home / "config")
    (home / "libs").symlink_to(dist / "libs")
    if (dist / "cds").is_dir():
        (home / "cds").symlink_to(dist / "cds")
    return home


def _script(path: Path, text: str) -> None:
    path.unlink(missing_ok=True)
    path.write_text(text)
    path.chmod(0o755)


def stub_home(dist: Path, home: Path, *, dist_storage_tool: bool = False) -> Path:
    """``dist_storage_tool``: bin/kafka-storage.sh execs ``dist``'s own, so the JVM's class path
    names ``dist/libs`` as it did when ``cds_dist`` dumped its archives (the JVM compares it)."""
    _overlay(dist, home)
    if dist_storage_tool:
        _script(home / "bin" / "kafka-storage.sh",
                f'#!/bin/sh\n# bench: the real tool\nexec "{dist}/bin/kafka-storage.sh" "$@"\n')
    _script(home / "bin" / "kafka-server-start.sh",
            "#!/bin/sh\n# bench stub: the server 'starts' and exits\nexit 0\n")
    return home


def instrumented_home(dist: Path, home: Path, events: Path) -> Path:
    _overlay(dist, home)
    stamp = f'printf "%s %s %s\\n" "$(date +%s.%N)" "${{HOSTNAME:-?}}" "$*" >> "{events}"'
    _script(home / "bin" / "kafka-storage.sh", f"""#!/bin/sh
# bench wrapper: record the call, run the real tool, record its end
ev() {{ {stamp.replace('"$*"', '"$1"')}; }}
ev "storage-begin $1"
"{dist}/bin/kafka-storage.sh" "$@"
rc=$?
ev "storage-end $1 rc=$rc"
exit $rc
""")
    _script(home / "bin" / "kafka-server-start.sh", f"""#!/bin/sh
# bench wrapper: record the exec, then become the real start script
{stamp.replace('"$*"', '"exec"')}
exec "{dist}/bin/kafka-server-start.sh" "$@"
""")
    return home


def seed_script(home: Path, out: Path) -> Path:
    """The seed's entrypoint.sh with only its hard-coded /opt/kafka replaced by ``home``."""
    out.write_text(SEED_ENTRYPOINT.read_text().replace("/opt/kafka", str(home)))
    out.chmod(0o755)
    return out


def cds_dist(dist: Path) -> Path:
    """A copy of ``dist`` (jar modification times kept) whose ``cds/`` holds archives made for this
    machine's JDK by ``kraft_entrypoint.cds_build``: a real format and a throw-away node run through the
    copy's own scripts, so the class path at dump time is the one the wrappers of
    ``instrumented_home`` give Kafka. Cached; remade when the archives no longer fit."""
    from kraft_entrypoint import cds, cds_build

    target = CACHE / "bench-cds" / dist.name

    def listing(path: Path) -> list[tuple[str, int, int]]:
        return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in (path / "libs").iterdir())

    if (target.is_dir() and listing(target) == listing(dist)
            and all(cds.inspect(str(target), tool, os.environ).archive for tool in cds.ARCHIVES)):
        return target
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(dist, target, symlinks=True)
    if cds_build.build(str(target), os.environ) is None:
        raise RuntimeError("this JDK cannot make CDS archives (HotSpot 11+ needed)")
    return target
