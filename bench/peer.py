"""P1P and P2P: three start paths side by side on the same Kafka jars (4.4.0 by default) — the seed's
entrypoint.sh, the official apache/kafka image's start path (bench/peer_driver.sh: its run, configure
and launch steps, whose one JVM runs kafka.docker.KafkaDockerWrapper setup, i.e. the KAFKA_* ->
server.properties translation and then the storage format, "already formatted" ignored) and ours.

P1P: restart of a formatted node -> exec of kafka-server-start.sh; P2P: first start of pod 0 -> exec.
As in P1/P2 (bench/startup.py) kafka-server-start.sh is a stub that exits, so a run ends at the exec;
wall time and peak RSS (bench.startup.measure) per run. Runs are interleaved triples, their order
cycling through the six permutations; the ratios are taken triple by triple. The table goes to
bench/results/peer.md and, from bench/run, into the report (bench/results/latest.md).

Standalone: ``.venv/bin/python -m bench.peer [--kafka 4.4.0] [--runs 12] [--p2-runs 12]``.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from bench.homes import cds_dist, stub_home
from bench.report import Report, Row
from bench.startup import POD, PYTHON, Bench, Measured, measure
from bench.stats import Summary, ratios
from kraftlab import versions

DRIVER = Path(__file__).resolve().with_name("peer_driver.sh")
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_VERSION = "4.4.0"
PATHS = ("seed", "peer", "us")
REFS = ("peer", "seed")  # each against us
LABELS = {"seed": "seed `entrypoint.sh`", "peer": "apache/kafka image path", "us": "kraft-entrypoint"}
ALREADY = re.compile(r"already formatted", re.IGNORECASE)
# launch's line before the wrapper; the wrapper's own output is printed only when it fails
LAUNCHED = "===> Using provided cluster id"


NOTES = """
## What the apache/kafka image path does (bench/peer_driver.sh)

Written for the bench from the steps of the image's scripts in the apache/kafka repository
(docker/resources/common-scripts/run, bash-config, configureDefaults, configure; docker/jvm/launch;
the same steps from the first official image, 3.7.0, to 4.x), run on this machine's jars:

1. The pod's command (a StatefulSet manifest's, the image cannot take the node id from the pod name):
   `KAFKA_NODE_ID=${HOSTNAME##*-}`, then exec of the image's run.
2. run, one bash process as in the image: `set -o nounset -o errexit`; `id`; configureDefaults
   (CLUSTER_ID defaults to the image's fixed `5L6g3nShT-eMCtK--X86sw`; here it is set); configure
   (KRaft checks, KAFKA_LISTENERS derived when unset, the final config directory writable).
3. launch: JMX options and `hostname -i` as the image sets them; `-XX:SharedArchiveFile=storage.jsa`
   in KAFKA_JVM_PERFORMANCE_OPTS; **one JVM**: `kafka-run-class.sh kafka.docker.KafkaDockerWrapper
   setup --default-configs-dir --mounted-configs-dir --final-configs-dir`, which writes
   server.properties (only the KAFKA_* variables' properties: `KAFKA_` dropped, lower case, `_` -> `.`)
   and the log4j files, **then calls the storage tool's format in the same JVM** (`format
   --cluster-id=$CLUSTER_ID -c <final>/server.properties`, no `--ignore-formatted`; seen in 4.4.0's
   `kafka/docker/KafkaDockerWrapper$.class` with javap). On a restart that format fails "already
   formatted" and launch ignores the failure by grepping for those words; any other failure ends
   the start. Then `-XX:SharedArchiveFile=kafka.jsa` and exec of `kafka-server-start.sh`.

So the image's path runs one JVM before the exec on every start, first or not — not two as the
issue supposed (the wrapper is the config translation *and* the format).

The environment is what a StatefulSet of the image gives pod kafka-0: the same topology the seed
and we derive (node id 0, PLAINTEXT :9092, CONTROLLER :9093, the pod's advertised name, 3 static
voters, the pod's data directory) spelled as KAFKA_* variables, plus the roles, listener names and
protocol map that the seed and we take from the template (given any KAFKA_* variable the wrapper
writes only those), and CLUSTER_ID from a Secret made once with `kafka-storage.sh random-uuid`
before the runs (not timed: the image neither makes nor shares an id).

## What is stubbed or differs from the image, and why

- The image's file layout: `/opt/kafka`, `/etc/kafka/docker`, `/mnt/shared/config` are scratch
  directories (PEER_OPT_KAFKA, PEER_DOCKER_DIR, PEER_MOUNTED_DIR); the bench does not run as root
  inside an image. `/opt/kafka` is the scripts/kafka-dist installation (the same jars for the three
  paths; its short bin/ scripts, the same for the three paths) instead of the release tarball.
- `/etc/kafka/docker/server.properties` is, in 4.x, the image's own file (docker/server.properties);
  here the distribution's template stands in. The wrapper reads it only when no KAFKA_* variable is
  set, so it is never read in these runs. The log4j files there are the distribution's, as the
  image's Dockerfile copies them.
- The JVM: this machine's Java 17 for the three paths (the image ships Temurin 21 on Alpine).
- CDS: the image's build makes storage.jsa with one `kafka-storage.sh format` (4.x: `--standalone`)
  under `-XX:ArchiveClassesAtExit`; the bench makes it the same way on this JVM and jars before the
  runs, and checks that the wrapper's JVM loads classes from it. kafka.jsa (the server's archive) is
  not made: the server is stubbed and its archive is only named in KAFKA_JVM_PERFORMANCE_OPTS.
  Ours, likewise as our image ships: the archives `python -m kraft_entrypoint.cds_build` makes at build
  time, made here on a copy of the same jars for this JVM (bench/homes.py cds_dist); the entrypoint
  hands the format JVM its storage archive, and the bench checks from the JVM's class-loading log
  that it is taken. The seed's image has no archive. `--no-cds` runs the image path and ours without.
- `kafka-server-start.sh` exits at once (bench/homes.py stub_home), for the three paths: the
  measurement ends at the exec.
- The user: the image runs as appuser (uid 1000), here the bench's user; `id` still runs. The image's
  scripts check no ulimit, so there is none to stub.
- configure's SSL and SASL branches (credential files under /etc/kafka/secrets) are not reproduced:
  the pod is PLAINTEXT, and the driver refuses such listeners (exit 2).
- The image's log is stdout; one `sh -c 'exec ... 1>&2'` joins it to stderr, which the bench reads
  to check each run (about 1 ms).
- 4.x only: the seed's script rewrites `config/kraft/server.properties`, gone in 4.x; it gets the 4.x
  template there with the `controller.quorum.bootstrap.servers` line turned into the
  `controller.quorum.voters=` line its sed fills (3.x templates carry it). On a restart its format
  fails "already formatted" (4.x has no silent skip) and the script, without `set -e`, goes on to the
  exec, as before. We need nothing: the entrypoint reads the version from libs/ and takes the 4.x
  template (config/server.properties) itself.
"""


def fqdn(ordinal: int) -> str:
    return f"kafka-{ordinal}.{POD['SERVICE']}.{POD['NAMESPACE']}.svc.cluster.local"


def statefulset_env(log_dir: Path, cluster_id: str) -> dict[str, str]:
    """What a StatefulSet of the official image gives pod kafka-0: the topology the seed and we
    derive from HOSTNAME/REPLICAS/SERVICE/NAMESPACE, spelled as the image's KAFKA_* variables (with the
    roles, listener names and protocol map that the seed and we take from the template: given any
    KAFKA_* variable, the image's wrapper writes only those), CLUSTER_ID from a Secret made once
    with kafka-storage.sh random-uuid, KAFKA_ADVERTISED_LISTENERS as the kubelet expands
    $(POD_NAME) in it, the pod's data directory. KAFKA_NODE_ID comes from the manifest's command
    (peer_driver.sh pod)."""
    replicas = int(POD["REPLICAS"])
    return {
        "HOSTNAME": POD["HOSTNAME"],
        "CLUSTER_ID": cluster_id,
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{POD['HOSTNAME']}.{POD['SERVICE']}."
                                      f"{POD['NAMESPACE']}.svc.cluster.local:9092",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": ",".join(f"{i}@{fqdn(i)}:9093" for i in range(replicas)),
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "KAFKA_LOG_DIRS": str(log_dir),
    }


class TripleBench(Bench):
    """bench.startup.Bench (seed and our stub homes on ``dist``) plus the official image's layout:
    /opt/kafka (a stub home: real bin/ and jars, kafka-server-start.sh exits), /etc/kafka/docker
    (the default configs), /mnt/shared/config (empty), the storage CDS archive made as the image's
    build makes it, a cluster id made once as a user makes the Secret's."""

    def __init__(self, dist: Path, cds: bool = True) -> None:
        super().__init__(dist)
        self.version = versions.kafka_version(dist)
        self.major = versions.major(dist)
        if self.major >= 4:
            seed_template_for_4x(self.seed_home)
        self.opt_kafka = stub_home(dist, self.root / "peer-opt-kafka")
        self.docker_dir = self.root / "peer-etc-kafka-docker"
        self.mounted_dir = self.root / "peer-mnt-shared-config"
        self.mounted_dir.mkdir()
        image_default_configs(self.opt_kafka, self.docker_dir, self.major)
        self.cluster_id = self._tool("random-uuid").strip().splitlines()[-1]
        # without the archive, the JVM warns that the named storage.jsa is missing and goes on
        self.cds_classes = self._storage_archive() if cds else 0
        # each image as it ships: ours has its storage archive too (the seed's has none)
        self.our_cds_classes = 0
        if cds:
            self.our_home = stub_home(cds_dist(dist), self.root / "our-home-cds", dist_storage_tool=True)
            self.our_cds_classes = self._our_archived_classes()

    def _tool(self, *args: str, extra: Optional[dict[str, str]] = None) -> str:
        result = subprocess.run([str(self.opt_kafka / "bin" / "kafka-storage.sh"), *args],
                                env=self.base_env() | (extra or {}), cwd=self.root, capture_output=True,
                                text=True, timeout=300, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"kafka-storage.sh {' '.join(args)}: exit {result.returncode}\n"
                               f"{result.stderr}")
        return result.stdout

    def _storage_archive(self) -> int:
        """<opt>/storage.jsa as the image's build stage (docker/jvm/jsa_launch) makes it: one
        kafka-storage.sh format of the distribution's template (4.x: --standalone) under
        -XX:ArchiveClassesAtExit. Returns how many classes the wrapper then loads from it."""
        config = self.root / "cds-format.properties"
        template = versions.template_path(self.opt_kafka).read_text()
        config.write_text(re.sub(r"(?m)^log\.dirs=.*$", f"log.dirs={self.root / 'cds-data'}", template))
        standalone = ["--standalone"] if self.major >= 4 else []
        archive = self.opt_kafka / "storage.jsa"
        self._tool("format", *standalone, "-t", self.cluster_id, "-c", str(config),
                   extra={"KAFKA_JVM_PERFORMANCE_OPTS": f"-XX:ArchiveClassesAtExit={archive}"})
        if not archive.is_file():
            raise RuntimeError(f"no CDS archive at {archive}")
        return self._archived_classes()

    def _archived_classes(self) -> int:
        """The wrapper once with class loading logged: the archive must be in use, or the peer
        path would be measured slower than the image's."""
        return self._classes_from_archive("the wrapper's JVM", self.peer_argv(), self.peer_env, LAUNCHED)

    def _our_archived_classes(self) -> int:
        """Our first start once with the format JVM's class loading logged: the entrypoint must
        have handed it our storage archive and the JVM must have taken it."""
        return self._classes_from_archive("our format JVM", [PYTHON, "-m", "kraft_entrypoint"], self.our_env,
                                          "cds: kafka-storage.sh uses")

    def _classes_from_archive(self, who: str, argv: list[str], env_of: Callable[[Path], dict[str, str]],
                              expect: str) -> int:
        """How many classes ``who`` loaded from the storage archive on a first start (its own
        class-loading log, "(top)": the archive on top of the JDK's default one); none is an error."""
        share = self.fresh_share()
        log = share / "class-load.log"
        env = env_of(share) | {"KAFKA_JVM_PERFORMANCE_OPTS": f"-Xlog:class+load:file={log}"}
        _check(measure(argv, env, self.root), f"{who}: first start (CDS check)", expect)
        shared = sum("shared objects file (top)" in line for line in log.read_text().splitlines())
        if shared == 0:
            raise RuntimeError(f"{who} loaded no class from its storage archive (CDS not in use)")
        return shared

    def peer_env(self, share: Path) -> dict[str, str]:
        return self.base_env() | statefulset_env(share / "0", self.cluster_id) | {
            "PEER_OPT_KAFKA": str(self.opt_kafka), "PEER_DOCKER_DIR": str(self.docker_dir),
            "PEER_MOUNTED_DIR": str(self.mounted_dir)}

    @staticmethod
    def peer_argv() -> list[str]:
        # the image's log is stdout; measure() keeps stderr: one sh joins them (about 1 ms)
        return ["sh", "-c", 'exec "$0" "$@" 1>&2', str(DRIVER), "pod"]

    def run_peer(self, share: Path) -> Measured:
        return measure(self.peer_argv(), self.peer_env(share), self.root)


def seed_template_for_4x(seed_home: Path) -> None:
    """What the seed needs on 4.x, and nothing else: its script rewrites
    config/kraft/server.properties (gone in 4.x) with sed, line by line. The 4.x template
    (config/server.properties) put there, its controller.quorum.bootstrap.servers line (a dynamic
    quorum, 4.x) turned into the controller.quorum.voters line that 3.x templates carry and the
    seed's sed fills."""
    template = (seed_home / "config" / "server.properties").read_text()
    adapted, count = re.subn(r"(?m)^controller\.quorum\.bootstrap\.servers=.*$", "controller.quorum.voters=",
                             template)
    if count != 1:
        raise RuntimeError("the 4.x template has no controller.quorum.bootstrap.servers line to adapt")
    (seed_home / "config" / "kraft").mkdir(exist_ok=True)
    (seed_home / "config" / "kraft" / "server.properties").write_text(adapted)


def image_default_configs(opt_kafka: Path, docker_dir: Path, major: int) -> None:
    """/etc/kafka/docker as the image's Dockerfile fills it: the tarball's log4j files (4.x:
    log4j2.yaml, tools-log4j2.yaml; 3.x: log4j.properties, tools-log4j.properties) and a default
    server.properties (3.x: config/kraft/server.properties; 4.x: the image's own file, stubbed by the
    tarball's config/server.properties — the wrapper reads it only when no KAFKA_* variable is set)."""
    docker_dir.mkdir()
    config = opt_kafka / "config"
    if major >= 4:
        logs = ("log4j2.yaml", "tools-log4j2.yaml")
    else:
        logs = ("log4j.properties", "tools-log4j.properties")
    for name in logs:
        shutil.copy(config / name, docker_dir / name)
    shutil.copy(versions.template_path(opt_kafka), docker_dir / "server.properties")


def _check(m: Measured, what: str, expect: str = "") -> None:
    if m.returncode != 0 or (expect and expect not in m.stderr):
        raise RuntimeError(f"{what}: exit {m.returncode}, expected {expect!r} in its log:\n"
                           f"{m.stderr[-3000:]}")


ORDERS = list(itertools.permutations(range(len(PATHS))))


LOAD_SAMPLES: list[float] = []  # the 1-min load average after each triple of this process


def triples(n: int, runners: Sequence[Callable[[], Measured]]) -> list[list[Measured]]:
    """n triples; triple i runs in the order ORDERS[i % 6], so each path is first, second and last
    equally often over six triples. Returns the runs of each path, index i = triple i."""
    runs: list[list[Measured]] = [[] for _ in runners]
    for i in range(n):
        for k in ORDERS[i % len(ORDERS)]:
            runs[k].append(runners[k]())
        LOAD_SAMPLES.append(os.getloadavg()[0])
    return runs


@dataclass(frozen=True)
class Figure:
    name: str
    what: str
    runs: dict[str, list[Measured]]

    def seconds(self, path: str) -> list[float]:
        return [m.seconds for m in self.runs[path]]

    def rss(self, path: str) -> list[float]:
        return [m.maxrss_mib for m in self.runs[path]]


def p1_restart(bench: TripleBench, n: int) -> Figure:
    """A formatted node restarts: each path restarts on its own formatted directory."""
    shares = {path: bench.fresh_share() for path in PATHS}
    _check(bench.run_seed(shares["seed"]), "seed first start")
    _check(bench.run_peer(shares["peer"]), "peer first start", LAUNCHED)
    _check(bench.run_ours(shares["us"]), "our first start", "format: running")

    def seed() -> Measured:
        m = bench.run_seed(shares["seed"])
        _check(m, "seed restart")
        return m

    def peer() -> Measured:
        m = bench.run_peer(shares["peer"])
        _check(m, "peer restart", "already formatted")
        return m

    def ours() -> Measured:
        m = bench.run_ours(shares["us"])
        _check(m, "our restart", "format: skipped")
        return m

    runs = triples(n, [seed, peer, ours])
    return Figure("P1P", "restart of a formatted node -> exec", dict(zip(PATHS, runs)))


def p2_first_start(bench: TripleBench, n: int) -> Figure:
    """Pod 0 on an empty directory -> exec (storage formatted; the seed and we also make the id)."""

    def formatted(share: Path, m: Measured, what: str, expect: str) -> Measured:
        _check(m, what, expect)
        if not (share / "0" / "meta.properties").exists():
            raise RuntimeError(f"{what} did not format:\n{m.stderr[-3000:]}")
        return m

    def seed() -> Measured:
        share = bench.fresh_share()
        return formatted(share, bench.run_seed(share), "seed first start", "")

    def peer() -> Measured:
        share = bench.fresh_share()
        return formatted(share, bench.run_peer(share), "peer first start", LAUNCHED)

    def ours() -> Measured:
        share = bench.fresh_share()
        return formatted(share, bench.run_ours(share), "our first start", "format: running")

    runs = triples(n, [seed, peer, ours])
    return Figure("P2P", "first start of pod 0 -> exec", dict(zip(PATHS, runs)))


def add_to_report(report: Report, fig: Figure, version: str) -> None:
    """Rows for bench/results/latest.md (reference vs us, the ratio triple by triple) and the
    ``name: value`` lines."""
    us_s, us_mem = fig.seconds("us"), fig.rss("us")
    for path in ("peer", "seed"):
        label = "apache/kafka image" if path == "peer" else "seed"
        report.add(Row(fig.name, f"{fig.what} (Kafka {version}, triples)", label,
                       Summary.of(fig.seconds(path)), Summary.of(us_s),
                       Summary.of(ratios(fig.seconds(path), us_s)), f"{path}/us"))
        report.add(Row(fig.name, f"peak RSS ({fig.what}, Kafka {version})", label,
                       Summary.of(fig.rss(path)), Summary.of(us_mem),
                       Summary.of(ratios(fig.rss(path), us_mem)), f"{path}/us", unit="MiB", digits=1))
    for path in PATHS:
        report.summary_lines(f"{fig.name} {path} time", Summary.of(fig.seconds(path)), "s")
        report.line(f"{fig.name} {path} peak rss median MiB", Summary.of(fig.rss(path)).median)
    for path in ("peer", "seed"):
        report.summary_lines(f"{fig.name} ratio {path}/us", Summary.of(ratios(fig.seconds(path), us_s)), "x")
    if fig.name == "P1P":
        for path in ("seed", "peer"):
            hits = sum(bool(ALREADY.search(m.stderr)) for m in fig.runs[path])
            report.line(f"P1P {path} restarts whose format JVM answered 'already formatted'",
                        f"{hits}/{len(fig.runs[path])}")


def _cell(summary: Summary, unit: str, digits: int) -> str:
    f = f"{{:.{digits}f}}"
    return f"**{f.format(summary.median)} {unit}** ({f.format(summary.low)}-{f.format(summary.high)})"


def markdown(figs: Sequence[Figure], bench: TripleBench, load: tuple[str, str], elapsed: float) -> str:
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr
    out = [f"# Three start paths side by side (P1P, P2P), {when}", "",
           f"Machine: {os.cpu_count()} CPUs, {_mem_gib():.0f} GiB RAM, {platform.system()} "
           f"{platform.release()}, "
           f"Python {sys.version.split()[0]}, {(java.splitlines() or ['?'])[0]}. The same Kafka "
           f"{bench.version} jars (scripts/kafka-dist) for the three paths. Load average (1, 5, 15 min) "
           f"at the start: {load[0]}; at the end: {load[1]}; 1-min load after each triple: "
           f"{_spread(LOAD_SAMPLES)} (the bench itself keeps about one core busy).", "",
           "| figure | " + " | ".join(LABELS[p] for p in PATHS) + " | peer/us | seed/us |",
           "| --- | --- | --- | --- | --- | --- |"]
    for fig in figs:
        n = len(fig.runs["us"])
        times = [_cell(Summary.of(fig.seconds(p)), "s", 3) for p in PATHS]
        rss = [_cell(Summary.of(fig.rss(p)), "MiB", 1) for p in PATHS]
        ratio = [_cell(Summary.of(ratios(fig.seconds(p), fig.seconds("us"))), "x", 2) for p in REFS]
        rss_ratio = [_cell(Summary.of(ratios(fig.rss(p), fig.rss("us"))), "x", 2) for p in REFS]
        out.append(f"| {fig.name} {fig.what} (n={n}) | " + " | ".join(times + ratio) + " |")
        out.append(f"| {fig.name} peak RSS, largest process of the tree | "
                   + " | ".join(rss + rss_ratio) + " |")
    out += ["", "Cells: median (min-max) over n interleaved triples (order cycling through the six "
            "permutations); ratios taken within each triple, then summarised the same way.", ""]
    p1 = next((f for f in figs if f.name == "P1P"), None)
    if p1 is not None:
        out += [f"P1P restarts whose format JVM answered \"already formatted\": seed "
                f"{sum(bool(ALREADY.search(m.stderr)) for m in p1.runs['seed'])}/{len(p1.runs['seed'])}, "
                f"apache/kafka image path {sum(bool(ALREADY.search(m.stderr)) for m in p1.runs['peer'])}/"
                f"{len(p1.runs['peer'])}, kraft-entrypoint 0/{len(p1.runs['us'])} (no JVM on a restart).", ""]
    if bench.cds_classes:
        out += [f"Class-data sharing as each image ships it: the apache/kafka image's storage.jsa (made "
                f"here as its build makes it) served {bench.cds_classes} classes to the wrapper's JVM; "
                f"our storage archive served {bench.our_cds_classes} to our format JVM (a first start "
                f"only: our restart runs no JVM). The seed has none.", ""]
    else:
        out += ["**Run with --no-cds**: no archive for the image path nor for us; every JVM loads its "
                "classes from the jars (both images as if their builds had not made archives).", ""]
    out += [NOTES.strip(), "", f"Bench wall time: {elapsed / 60:.1f} min.", ""]
    return "\n".join(out)


def _spread(values: Sequence[float]) -> str:
    if not values:
        return "-"
    s = Summary.of(values)
    return f"median {s.median:.2f}, max {s.high:.2f}"


def _mem_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def run(report: Report, wanted: set[str], p1_runs: int, p2_runs: int, version: str = DEFAULT_VERSION,
        output: Path = RESULTS / "peer.md", cds: bool = True) -> None:
    """P1P and/or P2P into ``report``, the table into ``output``."""
    started = datetime.datetime.now()
    load_start = _load()
    report.line("P1P/P2P load average at the start", load_start)
    dist = versions.fetch_dist(version)
    bench = TripleBench(dist, cds=cds)
    figs: list[Figure] = []
    try:
        if "P1P" in wanted:
            print("\n== P1P restart of a formatted node -> exec: seed, apache/kafka image path, us",
                  file=sys.stderr, flush=True)
            figs.append(p1_restart(bench, p1_runs))
            add_to_report(report, figs[-1], bench.version)
        if "P2P" in wanted:
            print("\n== P2P first start of pod 0 -> exec: seed, apache/kafka image path, us",
                  file=sys.stderr, flush=True)
            figs.append(p2_first_start(bench, p2_runs))
            add_to_report(report, figs[-1], bench.version)
        load_end = _load()
        report.line("P1P/P2P load average at the end", load_end)
        report.line("P1P/P2P 1-min load after each triple", _spread(LOAD_SAMPLES))
        report.note(f"P1P/P2P: Kafka {bench.version} jars for the seed, the apache/kafka image path "
                    f"(bench/peer_driver.sh) and us; table and what is stubbed: {output}")
        elapsed = (datetime.datetime.now() - started).total_seconds()
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(markdown(figs, bench, (load_start, load_end), elapsed))
    finally:
        bench.close()


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="P1P,P2P", help="P1P, P2P or both (default)")
    parser.add_argument("--kafka", default=DEFAULT_VERSION, help=f"Kafka version (default {DEFAULT_VERSION})")
    parser.add_argument("--runs", type=int, default=12, help="P1P triples (default 12)")
    parser.add_argument("--p2-runs", type=int, default=12, help="P2P triples (default 12)")
    parser.add_argument("--output", type=Path, default=RESULTS / "peer.md")
    parser.add_argument("--no-cds", action="store_true",
                        help="no class-data sharing archive for the image path nor for us")
    args = parser.parse_args(argv)
    wanted = {item.strip().upper() for item in args.only.split(",") if item.strip()}
    report = Report()
    run(report, wanted, args.runs, args.p2_runs, args.kafka, args.output, cds=not args.no_cds)
    print(args.output.read_text())


if __name__ == "__main__":
    main()
