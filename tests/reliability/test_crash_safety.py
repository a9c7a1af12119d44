"""R3: SIGKILL the entrypoint at random moments while it writes the cluster id and the config.

Each trial starts the real entrypoint (``python -m kraft_entrypoint``, a subprocess in its own
session, like a container's PID 1) against a fake, fast KAFKA_HOME whose ``kafka-storage.sh``
writes a meta.properties and records its arguments and whose ``kafka-server-start.sh`` records
its arguments and exits. After a delay drawn at random over the measured duration of a run
(half of the trials uniformly over the whole run, half normally around the measured moment of the
two writes), the
whole process group is SIGKILLed, as a container kill does. Then:

- ``$SHARE_DIR/cluster_id`` is absent or holds one valid id and a newline: never empty or torn;
- the generated config is absent, the previous complete file, or the new complete file (byte for
  byte what ``--dry-run`` prints): never torn;
- the next start, not killed, succeeds (execs the server with the new complete config), keeps the
  cluster id that survived the kill, and agrees with the id the storage was formatted with.

Two kinds of trial alternate: a first start on an empty share directory (the id and the config are
created) and a restart whose ``KAFKA_CFG_*`` override changed (the config is replaced).

Trials: ``KRAFT_CRASH_TRIALS`` (default 40; the bench's figure run uses 500). The counts are printed
as ``R3 <name>: <value>`` lines (``pytest -s`` shows them).
"""

from __future__ import annotations

import base64
import collections
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

TRIALS = int(os.environ.get("KRAFT_CRASH_TRIALS", "40"))
REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 30

FAKE_STORAGE = r"""#!/bin/sh
# Fake kafka-storage.sh: records its arguments, then formats like Kafka (meta.properties per log dir).
printf '%s\n' "$*" >> "$FAKE_KAFKA_RECORD.storage"
config=""; id=""
for arg in "$@"; do
  case "$arg" in
    --cluster-id=*) id=${arg#--cluster-id=} ;;
  esac
done
prev=""
for arg in "$@"; do
  [ "$prev" = "--config" ] && config=$arg
  prev=$arg
done
dirs=$(sed -n 's/^log\.dirs=//p' "$config" | tr ',' ' ')
node=$(sed -n 's/^node\.id=//p' "$config")
for dir in $dirs; do
  [ -f "$dir/meta.properties" ] && continue
  mkdir -p "$dir"
  printf 'version=1\ncluster.id=%s\nnode.id=%s\n' "$id" "$node" > "$dir/.meta.tmp"
  mv "$dir/.meta.tmp" "$dir/meta.properties"
done
"""

FAKE_START = """#!/bin/sh
# Fake kafka-server-start.sh: records its arguments and exits at once.
printf '%s\\n' "$*" >> "$FAKE_KAFKA_RECORD.start"
"""


@dataclass
class Pod:
    """One trial's pod: its share directory, config path and environment."""

    root: Path
    env: dict[str, str]

    @property
    def share(self) -> Path:
        return self.root / "share"

    @property
    def config(self) -> Path:
        return self.root / "conf" / "server.properties"

    @property
    def id_file(self) -> Path:
        return self.share / "cluster_id"

    @property
    def record(self) -> Path:
        return self.root / "record"

    def temp_files(self) -> list[Path]:
        found = []
        for directory in (self.share, self.config.parent):
            if directory.is_dir():
                found += [p for p in directory.iterdir()
                          if p.name.startswith(".") and p.name.endswith(".tmp")]
        return found


def _kafka_home(root: Path, template: Path) -> Path:
    home = root / "kafka"
    (home / "bin").mkdir(parents=True)
    (home / "config" / "kraft").mkdir(parents=True)
    (home / "config" / "kraft" / "server.properties").write_bytes(template.read_bytes())
    (home / "libs").mkdir()
    (home / "libs" / "kafka_2.13-3.3.2.jar").write_bytes(b"")  # the version is read from it
    for name, text in (("kafka-storage.sh", FAKE_STORAGE), ("kafka-server-start.sh", FAKE_START)):
        script = home / "bin" / name
        script.write_text(text)
        script.chmod(0o755)
    return home


def _pod(root: Path, home: Path, base_environ: Mapping[str, str], retention: str) -> Pod:
    root.mkdir(parents=True)
    (root / "share").mkdir()
    env = dict(base_environ)
    env.update({
        "HOSTNAME": "kafka-1", "REPLICAS": "3", "SERVICE": "kafka-svc", "NAMESPACE": "kafka-kraft",
        "SHARE_DIR": str(root / "share"), "KAFKA_HOME": str(home),
        "KRAFT_CONFIG": str(root / "conf" / "server.properties"),
        "CLUSTER_ID_TIMEOUT": "20", "KAFKA_CFG_LOG_RETENTION_HOURS": retention,
        "FAKE_KAFKA_RECORD": str(root / "record"), "PYTHONPATH": str(REPO),
    })
    return Pod(root, env)


def _argv(*extra: str) -> list[str]:
    return [sys.executable, "-m", "kraft_entrypoint", *extra]


def _run(pod: Pod, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(_argv(*extra), env=pod.env, capture_output=True, timeout=RUN_TIMEOUT, check=False)


def _valid_id(data: bytes) -> bool:
    """Independent of the package: 22 URL-safe base64 characters of 16 bytes, and a newline."""
    text = data.decode("ascii", "replace")
    if not text.endswith("\n") or len(text) != 23:
        return False
    try:
        raw = base64.urlsafe_b64decode(text[:22] + "==")
    except ValueError:
        return False
    return len(raw) == 16 and base64.urlsafe_b64encode(raw).decode().rstrip("=") == text[:22]


def _meta_id(pod: Pod) -> str | None:
    meta = pod.share / "1" / "meta.properties"
    if not meta.exists():
        return None
    for line in meta.read_text().splitlines():
        if line.startswith("cluster.id="):
            return line.split("=", 1)[1]
    return None


@dataclass
class Timing:
    """Seconds from spawn: process exit, cluster_id written, config written (file mtimes)."""

    exit: float
    id_written: float
    config_written: float


def _calibrate(pod: Pod) -> Timing:
    """One complete run, timed; file mtimes say when each write happened."""
    start_ns = time.time_ns()
    process = subprocess.Popen(_argv(), env=pod.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = process.communicate(timeout=RUN_TIMEOUT)
    end_ns = time.time_ns()
    assert process.returncode == 0, err.decode()

    def since(path: Path) -> float:
        return max(0.0, (path.stat().st_mtime_ns - start_ns) / 1e9)

    return Timing((end_ns - start_ns) / 1e9, since(pod.id_file), since(pod.config))


def _phase(pod: Pod, exited: bool, id_before: bytes | None, new_config: bytes) -> str:
    """Where the kill landed, told from what is on disk."""
    if exited:
        return "after exit (too late)"
    if pod.record.with_suffix(".start").exists():
        return "after the writes (exec)"
    if pod.record.with_suffix(".storage").exists():
        return "after the writes (format)"
    temps = pod.temp_files()
    if any(t.name.startswith(".cluster_id.") for t in temps) and (id_before is None):
        return "inside the cluster_id write"
    if any(t.name.startswith(".server.properties.") for t in temps):
        return "inside the config write"
    config = pod.config.read_bytes() if pod.config.exists() else None
    if config == new_config:
        return "after the writes (config done)"
    if id_before is None and pod.id_file.exists():
        return "between the cluster_id and config writes"
    return "before the writes"


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL of a process group")
def test_sigkill_during_writes_leaves_no_torn_file_and_next_start_succeeds(
    tmp_path: Path, template_path: Path, base_environ: dict[str, str]
) -> None:
    seed = int(os.environ.get("KRAFT_CRASH_SEED", str(time.time_ns())))
    rng = random.Random(seed)  # noqa: S311 (kill moments, not secrets)
    home = _kafka_home(tmp_path, template_path)
    counts: collections.Counter[str] = collections.Counter()
    failures: list[str] = []

    # The two kinds of trial, measured first: duration of a run and when each write happens.
    timings: dict[str, list[Timing]] = {"first start": [], "restart": []}
    for kind in timings:
        for i in range(7):
            pod = _pod(tmp_path / f"calibrate-{kind.replace(' ', '-')}-{i}", home, base_environ, "24")
            if kind == "restart":
                assert _run(pod).returncode == 0
                pod.env["KAFKA_CFG_LOG_RETENTION_HOURS"] = "48"
            timings[kind].append(_calibrate(pod))
    windows = {}
    for kind, runs in timings.items():
        duration = statistics.median(t.exit for t in runs)
        written = [t.id_written if kind == "first start" else t.config_written for t in runs]
        written += [t.config_written for t in runs]
        centre = statistics.median(written)  # robust: other work on the machine makes outliers
        spread = min(0.005, max(0.002, statistics.median(abs(w - centre) for w in written)))
        windows[kind] = (duration, centre, spread)
        print(f"R3 measured {kind}: run {duration * 1000:.0f} ms, writes at "
              f"{min(written) * 1000:.0f}-{max(written) * 1000:.0f} ms after spawn")

    aim = {kind: window[1] for kind, window in windows.items()}
    for trial in range(TRIALS):
        kind = "first start" if trial % 2 == 0 else "restart"
        duration, centre, spread = windows[kind]
        # Half the kills anywhere in a run; half aimed at the writes: the aim starts at the measured
        # moment and then follows where kills land (earlier after a late kill, later after an early
        # one), since other work on the machine shifts the moment from run to run.
        aimed = trial % 4 >= 2
        delay = max(0.0, rng.gauss(aim[kind], spread)) if aimed else rng.uniform(0, duration)
        pod = _pod(tmp_path / f"trial-{trial}", home, base_environ, "24")
        id_before: bytes | None = None
        if kind == "restart":
            assert _run(pod).returncode == 0
            for suffix in (".start", ".storage"):  # the phase is told from this run's records only
                pod.record.with_suffix(suffix).unlink(missing_ok=True)
            id_before = pod.id_file.read_bytes()
            pod.env["KAFKA_CFG_LOG_RETENTION_HOURS"] = "48"
        old_config = pod.config.read_bytes() if pod.config.exists() else None
        new_config = _run(pod, "--dry-run").stdout  # exactly the file a real start writes
        assert new_config
        assert new_config != old_config

        process = subprocess.Popen(_argv(), env=pod.env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        exited = process.poll() is not None
        if not exited:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=RUN_TIMEOUT)
        # fake tools the group kill may have missed are gone by now (they run under 50 ms)
        phase = _phase(pod, exited, id_before, new_config)
        counts[phase] += 1
        if os.environ.get("KRAFT_CRASH_DEBUG"):
            print(f"R3 debug {kind} {'aimed' if aimed else 'uniform'} {delay * 1000:.1f} ms "
                  f"aim {aim[kind] * 1000:.1f}: {phase}")
        if aimed and phase == "before the writes":
            aim[kind] += 0.002
        elif aimed and phase.startswith("after"):
            aim[kind] = max(0.0, aim[kind] - 0.002)
        counts["temp files left by the kill"] += len(pod.temp_files())

        where = f"trial {trial} ({kind}, kill after {delay * 1000:.1f} ms, {phase})"
        id_after_kill = pod.id_file.read_bytes() if pod.id_file.exists() else None
        if id_after_kill is not None and not _valid_id(id_after_kill):
            counts["torn or empty cluster_id"] += 1
            failures.append(f"{where}: cluster_id holds {id_after_kill!r}")
        if id_before is not None and id_after_kill != id_before:
            counts["cluster_id changed by the kill"] += 1
            failures.append(f"{where}: cluster_id {id_before!r} became {id_after_kill!r}")
        config_after_kill = pod.config.read_bytes() if pod.config.exists() else None
        if config_after_kill not in (None, old_config, new_config):
            counts["torn config"] += 1
            failures.append(f"{where}: config is neither absent, the old nor the new file:\n"
                            f"{config_after_kill!r}")

        # The next start: not killed, it must succeed with the complete new config.
        meta_id_after_kill = _meta_id(pod)
        result = _run(pod)
        if result.returncode != 0 or b"exec:" not in result.stderr:
            counts["next start failed"] += 1
            failures.append(f"{where}: next start exited {result.returncode}:\n{result.stderr.decode()}")
            continue
        if pod.config.read_bytes() != new_config:
            counts["next start wrote a wrong config"] += 1
            failures.append(f"{where}: config after the next start differs from --dry-run's")
        final_id = pod.id_file.read_bytes() if pod.id_file.exists() else b""
        if not _valid_id(final_id):
            counts["torn or empty cluster_id"] += 1
            failures.append(f"{where}: cluster_id after the next start holds {final_id!r}")
        if id_after_kill is not None and final_id != id_after_kill:
            counts["cluster id changed by the next start"] += 1
            failures.append(f"{where}: the next start replaced {id_after_kill!r} by {final_id!r}")
        if meta_id_after_kill is not None and final_id.strip().decode() != meta_id_after_kill:
            counts["cluster_id differs from the formatted storage"] += 1
            failures.append(f"{where}: storage formatted with {meta_id_after_kill}, file holds {final_id!r}")
        if _meta_id(pod) != final_id.strip().decode():
            counts["cluster_id differs from the formatted storage"] += 1
            failures.append(f"{where}: meta.properties {_meta_id(pod)} vs cluster_id {final_id!r}")
        starts = pod.record.with_suffix(".start").read_text().splitlines() or [""]
        if starts[-1] != str(pod.config):
            failures.append(f"{where}: the server was started with {starts[-1]!r}")
        counts["temp files left after the next start"] += len(pod.temp_files())

    print(f"R3 trials: {TRIALS}")
    print(f"R3 random seed (KRAFT_CRASH_SEED): {seed}")
    for phase in ("before the writes", "inside the cluster_id write",
                  "between the cluster_id and config writes", "inside the config write",
                  "after the writes (config done)", "after the writes (format)",
                  "after the writes (exec)", "after exit (too late)"):
        print(f"R3 kills {phase}: {counts[phase]}")
    for name in ("torn or empty cluster_id", "cluster_id changed by the kill", "torn config",
                 "next start failed", "next start wrote a wrong config",
                 "cluster id changed by the next start",
                 "cluster_id differs from the formatted storage"):
        print(f"R3 {name}: {counts[name]}")
    print(f"R3 temp files left by the kill (harmless, never read): {counts['temp files left by the kill']}")
    print(f"R3 temp files left after the next start: {counts['temp files left after the next start']}")
    assert not failures, "\n".join(failures[:10])
