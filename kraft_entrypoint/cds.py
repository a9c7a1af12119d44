"""Class-data sharing (CDS) archives for Kafka's two JVMs: made when the image is built, used at start.

Build time, ``python -m kraft_entrypoint.cds`` (the Dockerfile runs it once Kafka is in place):
``kafka-storage.sh format`` on a temporary directory and a throw-away single node (started, asked
one request, stopped with SIGTERM) run through Kafka's own scripts. On Java 11 and 12 their loaded
classes are listed (``-XX:DumpLoadedClassList``) and dumped into static archives (``-Xshare:dump``);
on Java 13+ each JVM writes a dynamic archive as it exits (``-XX:ArchiveClassesAtExit``). The
archives go to ``KAFKA_HOME/cds`` with ``stamp.json``: the JDK and the jars they were made with.

Start time (the entrypoint): ``inspect`` compares that stamp with the JDK that
``kafka-run-class.sh`` will run and with ``KAFKA_HOME/libs``, by reading files only (no JVM);
``kafka_opts`` (pure) appends ``-XX:SharedArchiveFile=...`` to the existing ``KAFKA_OPTS``.

Why the class path matches: the JVM uses an archive only with the class path it was dumped with
(a prefix of it). Every dumping JVM, the ``-Xshare:dump`` ones included, is started by the same
scripts the entrypoint runs, from the same ``KAFKA_HOME``, so ``kafka-run-class.sh`` builds the
class path the same way; the entrypoint adds the archive only while ``KAFKA_HOME/libs`` is the
same directory holding the same jars (names, sizes, modification times), the JDK files are the
stamped ones and ``CLASSPATH`` (which the scripts would add) is unset. The JVM checks again itself
and, with its default ``-Xshare:auto``, runs without an archive it cannot use: a missing or stale
archive costs start-up time, never a start.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from kraft_entrypoint.errors import InvalidInput

log = logging.getLogger("kraft_entrypoint")

MODES = ("auto", "off")
ARCHIVE_DIR = "cds"
STAMP = "stamp.json"
STAMP_FORMAT = 1
#: The two JVMs the entrypoint starts, and the archive each one uses.
ARCHIVES = {"storage": "storage.jsa", "server": "server.jsa"}
TOOLS = {"storage": "kafka-storage.sh", "server": "kafka-server-start.sh"}
#: Variables whose words reach the JVM (kafka-run-class.sh, or the JVM itself for the last two).
JVM_OPTION_VARIABLES = ("KAFKA_HEAP_OPTS", "KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_GC_LOG_OPTS",
                        "KAFKA_JMX_OPTS", "KAFKA_LOG4J_OPTS", "KAFKA_OPTS", "JAVA_TOOL_OPTIONS",
                        "JDK_JAVA_OPTIONS")
#: Options by which the user already decides about CDS; with one of them we add nothing.
_USER_CDS_OPTION = re.compile(
    r"-Xshare:(off|dump)\Z|-XX:(SharedArchiveFile|ArchiveClassesAtExit|SharedClassListFile|"
    r"DumpLoadedClassList)=|-XX:[+-]UseSharedSpaces\Z|-XX:\+AutoCreateSharedArchive\Z"
)
#: Files of the JDK whose change makes an archive stale (size and modification time are compared).
JDK_FILES = ("release", "lib/modules", "lib/server/libjvm.so", "lib/server/classes.jsa")
#: A valid id for the throw-away node of the build (fixed, so the build does the same every time).
BUILD_CLUSTER_ID = "a3JhZnQtY2RzLWJ1aWxkIQ"  # base64 of "kraft-cds-build!"


def parse_mode(value: Optional[str]) -> str:
    """KRAFT_CDS: ``auto`` (use the image's archives when they match this JDK) or ``off``."""
    mode = (value or "auto").strip().lower()
    if mode not in MODES:
        raise InvalidInput(f"KRAFT_CDS (--cds) must be auto or off, e.g. KRAFT_CDS=off; got {value!r}")
    return mode


# --- start time ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """The KAFKA_OPTS for one JVM (None: leave it as it is) and the log line saying why."""

    kafka_opts: Optional[str]
    message: str
    warning: bool = False  # a stale archive was left out


@dataclass(frozen=True)
class Found:
    """What ``inspect`` found for one JVM: a usable archive, or why there is none."""

    archive: Optional[str]
    detail: str  # "dynamic archive, Java 17.0.15" or the reason there is no usable archive
    stale: bool = False  # an archive is there but does not fit this JDK or these jars


def kafka_opts(mode: str, tool: str, environment: Mapping[str, str], found: Found) -> Decision:
    """The KAFKA_OPTS for one JVM and the log line saying why. Pure.

    The archive is appended to the user's KAFKA_OPTS; nothing is added when KRAFT_CDS=off, when the
    user's own JVM options already decide about CDS, or when there is no usable archive.
    """
    name = TOOLS[tool]
    if mode == "off":
        return Decision(None, f"cds: off (KRAFT_CDS=off); {name} starts without an archive")
    for variable in JVM_OPTION_VARIABLES:
        words = environment.get(variable, "").split()
        option = next((word for word in words if _USER_CDS_OPTION.match(word)), None)
        if option is not None:
            return Decision(None, f"cds: {variable} has {option}; {name} starts with the user's CDS options, "
                                  "none added")
    if found.archive is None:
        return Decision(None, f"cds: {found.detail}; {name} starts without an archive", warning=found.stale)
    current = environment.get("KAFKA_OPTS", "").strip()
    option = f"-XX:SharedArchiveFile={found.archive}"
    return Decision(f"{current} {option}" if current else option,
                    f"cds: {name} uses {found.archive} ({found.detail})")


def inspect(kafka_home: str, tool: str, environment: Mapping[str, str]) -> Found:
    """Whether ``KAFKA_HOME/cds`` holds an archive for ``tool`` that fits this JDK and these jars.

    Reads the stamp and stats files; starts no JVM. Never raises for what it finds.
    """
    directory = os.path.join(kafka_home, ARCHIVE_DIR)
    archive = os.path.join(directory, ARCHIVES[tool])
    stamp_path = os.path.join(directory, STAMP)
    if not os.path.isfile(archive):
        return Found(None, f"no archive {archive} (none was made for this installation)")
    try:
        with open(stamp_path, "rb") as source:
            stamp = json.loads(source.read(1 << 20))
        made_with, kind, version = stamp["fingerprint"], stamp["kind"], stamp["java_version"]
        if stamp.get("format") != STAMP_FORMAT or not isinstance(made_with, dict):
            raise ValueError("unknown stamp format")
    except (OSError, ValueError, KeyError, TypeError) as error:
        return Found(None, f"{archive} has no readable stamp {stamp_path} ({error})", stale=True)
    if any(c.isspace() for c in archive):
        return Found(None, f"{archive} has white space in its path, which KAFKA_OPTS cannot carry",
                     stale=True)
    difference = _difference(made_with, fingerprint(kafka_home, environment))
    if difference:
        return Found(None, f"{archive} does not fit this start: {difference}", stale=True)
    return Found(archive, f"{kind} archive, Java {version}")


def environment_for(mode: str, kafka_home: str, tool: str,
                    environment: Mapping[str, str]) -> Optional[dict[str, str]]:
    """The environment for one Kafka JVM (None: inherit ours unchanged); logs one line."""
    found = inspect(kafka_home, tool, environment) if mode != "off" else Found(None, "off")
    decision = kafka_opts(mode, tool, environment, found)
    (log.warning if decision.warning else log.info)("%s", decision.message)
    if decision.kafka_opts is None:
        return None
    return {**environment, "KAFKA_OPTS": decision.kafka_opts}


def fingerprint(kafka_home: str, environment: Mapping[str, str]) -> dict[str, Any]:
    """What an archive depends on, read from files: the java kafka-run-class.sh runs, its JDK's
    files, and the jars of KAFKA_HOME/libs. The same function writes the stamp and checks it."""
    java = _java(environment)
    jdk = os.path.dirname(os.path.dirname(java)) if java else ""
    libs = os.path.realpath(os.path.join(kafka_home, "libs"))
    try:
        entries = [entry for entry in os.scandir(libs) if entry.is_file()]
        jars = sorted([entry.name, *(_stat(entry.path) or [])] for entry in entries)
    except OSError:
        jars = []
    return {
        "java": java,
        "jdk_files": {name: _stat(os.path.join(jdk, name)) if jdk else None for name in JDK_FILES},
        "libs": libs,
        "jars": jars,
        "CLASSPATH": environment.get("CLASSPATH", ""),
    }


def write_stamp(directory: str, kind: str, java_version: str, made_with: Mapping[str, Any]) -> None:
    """Write ``directory/stamp.json``: what ``inspect`` compares at start (see ``fingerprint``)."""
    stamp = {"format": STAMP_FORMAT, "kind": kind, "java_version": java_version, "archives": ARCHIVES,
             "fingerprint": made_with}
    with open(os.path.join(directory, STAMP), "w") as out:
        json.dump(stamp, out, indent=1, sort_keys=True)
        out.write("\n")


def _java(environment: Mapping[str, str]) -> str:
    """The real path of the java kafka-run-class.sh runs: $JAVA_HOME/bin/java, else java on PATH."""
    java_home = environment.get("JAVA_HOME")
    if java_home:
        java: Optional[str] = os.path.join(java_home, "bin", "java")
    else:
        java = shutil.which("java", path=environment.get("PATH"))
    return os.path.realpath(java) if java and os.path.isfile(java) else ""


def _stat(path: str) -> Optional[list[int]]:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]


def _difference(made_with: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    """The first way ``now`` differs from the stamp, in words; empty when it does not."""
    if now["java"] != made_with.get("java"):
        return f"java is {now['java'] or 'not found'}, the archive was made with {made_with.get('java')}"
    files = made_with.get("jdk_files") or {}
    for name, stat in now["jdk_files"].items():
        if stat != files.get(name):
            return f"the JDK's {name} changed since the archive was made (a JDK update?)"
    if now["libs"] != made_with.get("libs"):
        return f"KAFKA_HOME/libs is {now['libs']}, the archive was made with {made_with.get('libs')}"
    if now["jars"] != made_with.get("jars"):
        before = {jar[0]: jar for jar in made_with.get("jars") or []}
        after = {jar[0]: jar for jar in now["jars"]}
        changed = sorted(set(before) ^ set(after)) or sorted(n for n in after if after[n] != before.get(n))
        return f"the jars in {now['libs']} changed since the archive was made ({', '.join(changed[:3])})"
    if now["CLASSPATH"] != made_with.get("CLASSPATH", ""):
        return "CLASSPATH is set, so the class path differs from the archive's"
    return ""


# --- build time ----------------------------------------------------------------------------------


class BuildError(Exception):
    """The archives could not be made (the message says why and shows the JVM's output)."""


@dataclass(frozen=True)
class Java:
    feature: int  # 11, 17, ...
    version: str  # java.vm.version
    vm_name: str
    home: str
    has_base_archive: bool  # the JDK's default CDS archive, which a dynamic archive builds on

    @property
    def kind(self) -> str:
        """static (class list + -Xshare:dump) on 11-12 or without a base archive, else dynamic."""
        return "dynamic" if self.feature >= 13 and self.has_base_archive else "static"


def build(kafka_home: str, environment: Mapping[str, str], timeout: float = 300) -> Optional[str]:
    """Make ``KAFKA_HOME/cds`` (the archives and their stamp); returns its path, or None with a
    message when this JDK cannot make archives (not HotSpot, older than 11). Raises BuildError."""
    java = _java_properties(environment)
    if java is None:
        return None
    target = os.path.join(kafka_home, ARCHIVE_DIR)
    work = tempfile.mkdtemp(prefix="kraft-cds-")
    try:
        staging = os.path.join(work, "cds")
        os.mkdir(staging)
        config, port = _throwaway_config(kafka_home, work)
        env = {key: value for key, value in environment.items()
               if key not in JVM_OPTION_VARIABLES and key != "CLASSPATH"}
        env["LOG_DIR"] = os.path.join(work, "logs")
        bin_dir = os.path.join(kafka_home, "bin")
        storage = [os.path.join(bin_dir, "kafka-storage.sh"), "format", "--config", config,
                   f"--cluster-id={BUILD_CLUSTER_ID}", "--ignore-formatted"]
        server = [os.path.join(bin_dir, "kafka-server-start.sh"), config]

        def options(tool: str) -> str:
            if java.kind == "dynamic":
                return f"-XX:ArchiveClassesAtExit={os.path.join(staging, ARCHIVES[tool])}"
            return f"-XX:DumpLoadedClassList={os.path.join(work, tool + '.classlist')}"

        _say(f"Java {java.version} ({java.vm_name}): {java.kind} archives for {', '.join(TOOLS.values())}")
        started = time.monotonic()
        _run(storage, {**env, "KAFKA_OPTS": options("storage")}, timeout, "kafka-storage.sh format")
        _say(f"kafka-storage.sh format ran ({time.monotonic() - started:.1f} s)")
        started = time.monotonic()
        _serve_once(server, {**env, "KAFKA_OPTS": options("server")}, port, work, timeout)
        _say("the throw-away node started, answered ApiVersions and stopped "
             f"({time.monotonic() - started:.1f} s)")
        if java.kind == "static":
            for tool, argv in (("storage", storage[:1]), ("server", server)):
                dump = (f"-Xshare:dump -XX:SharedClassListFile={os.path.join(work, tool + '.classlist')} "
                        f"-XX:SharedArchiveFile={os.path.join(staging, ARCHIVES[tool])}")
                # Without the scripts' default -Dcom.sun.management.jmxremote: the JMX agent starting
                # in a dumping JVM makes Java 11 exit 1. It does not touch the class path.
                dump_env = {**env, "KAFKA_OPTS": dump, "KAFKA_JMX_OPTS": "-Dkraft.cds.dump=true"}
                _run(argv, dump_env, timeout, f"-Xshare:dump for {TOOLS[tool]}")
        for tool, name in ARCHIVES.items():
            if not os.path.isfile(os.path.join(staging, name)):
                raise BuildError(f"the {TOOLS[tool]} JVM wrote no archive {name} (its output is above)")
        _check_in_use([storage[0], "random-uuid"], {**env, "KAFKA_OPTS": _in_use_options(staging)}, timeout)
        write_stamp(staging, java.kind, java.version, fingerprint(kafka_home, env))
        for name in os.listdir(staging):
            os.chmod(os.path.join(staging, name), 0o644)
        os.chmod(staging, 0o755)  # noqa: S103 - read by the kafka user, written by nobody
        if os.path.isdir(target):
            shutil.rmtree(target)
        shutil.move(staging, target)
        for name in sorted(os.listdir(target)):
            path = os.path.join(target, name)
            _say(f"{path}: {os.path.getsize(path) / 2**20:.1f} MiB")
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _say(message: str) -> None:
    print(f"kraft-entrypoint cds: {message}", file=sys.stderr, flush=True)


def _java_properties(environment: Mapping[str, str]) -> Optional[Java]:
    java = _java(environment)
    if not java:
        raise BuildError("no java: set JAVA_HOME or put java on PATH")
    proc = subprocess.run([java, "-XshowSettings:properties", "-version"], capture_output=True, text=True,
                          timeout=120, check=False)
    props: dict[str, str] = dict(re.findall(r"^\s+([\w.]+) = (.*)$", proc.stderr, re.M))
    spec = props.get("java.specification.version", "")
    feature = int(spec.split(".")[-1]) if re.fullmatch(r"(1\.)?\d+", spec) else 0
    vm_name = props.get("java.vm.name", "?")
    if proc.returncode != 0 or not feature:
        raise BuildError(f"{java} -XshowSettings:properties -version failed:\n{proc.stderr[-2000:]}")
    if feature < 11 or "OpenJ9" in vm_name:
        _say(f"Java {spec} ({vm_name}): no archives made (application CDS needs HotSpot Java 11+)")
        return None
    home = props.get("java.home", os.path.dirname(os.path.dirname(java)))
    base = any(os.path.isfile(os.path.join(home, "lib", "server", name))
               for name in ("classes.jsa", "classes_nocoops.jsa"))
    return Java(feature, props.get("java.vm.version", spec), vm_name, home, base)


def _throwaway_config(kafka_home: str, work: str) -> tuple[str, int]:
    """A single-node KRaft config on 127.0.0.1 (free ports) from the installation's template;
    returns its path and the broker port."""
    from kraft_entrypoint import properties

    template = next((path for path in (os.path.join(kafka_home, "config", "kraft", "server.properties"),
                                       os.path.join(kafka_home, "config", "server.properties"))
                     if os.path.isfile(path)), None)
    if template is None:
        raise BuildError(f"no server.properties template under {kafka_home}/config")
    broker, controller = _free_port(), _free_port()
    values = dict(properties.read(template))
    # Kafka 4's template names a dynamic quorum at localhost:9093; this node's quorum is static.
    values.pop("controller.quorum.bootstrap.servers", None)
    values.update({
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller}",
        "listeners": f"PLAINTEXT://127.0.0.1:{broker},CONTROLLER://127.0.0.1:{controller}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{broker}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": os.path.join(work, "data"),
    })
    path = os.path.join(work, "server.properties")
    with open(path, "wb") as out:
        out.write(properties.render(values.items(), "kraft-entrypoint: throw-away node for the CDS archives"))
    return path, broker


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(argv: Sequence[str], env: Mapping[str, str], timeout: float, what: str) -> str:
    try:
        proc = subprocess.run(list(argv), env=dict(env), stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BuildError(f"{what} did not finish within {timeout:.0f} s") from None
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise BuildError(f"{what} exited with {proc.returncode}:\n{output[-4000:]}")
    return output


def _serve_once(argv: Sequence[str], env: Mapping[str, str], port: int, work: str, timeout: float) -> None:
    """Start the node, wait for "Kafka Server started" and one answered ApiVersions request, then
    stop it with SIGTERM and wait for a clean exit (a dynamic archive is written as the JVM exits)."""
    log_path = os.path.join(work, "server.out")
    with open(log_path, "wb") as out:
        process = subprocess.Popen(list(argv), env=dict(env), stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with open(log_path, "rb") as source:
                started = b"Kafka Server started" in source.read()
            if started and _api_versions(port):
                break
            if process.poll() is not None:
                raise BuildError(f"the throw-away node exited with {process.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise BuildError(f"the throw-away node did not serve within {timeout:.0f} s:\n"
                                 f"{_tail(log_path)}")
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BuildError(f"the throw-away node did not stop within {timeout:.0f} s of SIGTERM") from None
        if code not in (0, 143):
            raise BuildError(f"the throw-away node exited with {code} after SIGTERM:\n{_tail(log_path)}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _api_versions(port: int) -> bool:
    """Send Kafka's ApiVersions request (v0) and check the answer: error code 0, our correlation id."""
    client = b"kraft-entrypoint-cds"
    request = struct.pack(">hhih", 18, 0, 42, len(client)) + client
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            size = struct.unpack(">i", _receive(sock, 4))[0]
            correlation, error = struct.unpack(">ih", _receive(sock, min(size, 6)))
    except (OSError, struct.error):
        return False
    return bool(correlation == 42 and error == 0)


def _receive(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


def _in_use_options(staging: str) -> str:
    archive = os.path.join(staging, ARCHIVES["storage"])
    return f"-XX:SharedArchiveFile={archive} -Xshare:auto -Xlog:class+load=info"


def _check_in_use(argv: Sequence[str], env: Mapping[str, str], timeout: float) -> None:
    """The storage tool, started the way the entrypoint starts it, loads its main class from the
    new archive (the JVM's own class-loading log says so), so the class paths agree."""
    output = _run(argv, env, timeout, "kafka-storage.sh random-uuid with the new archive")
    if not re.search(r"kafka\.tools\.StorageTool source: shared objects file", output):
        lines = [line for line in output.splitlines() if "StorageTool" in line or "cds" in line]
        raise BuildError("kafka-storage.sh does not use the archive it was dumped for:\n"
                         + "\n".join(lines[-20:]))
    _say("checked: kafka-storage.sh loads kafka.tools.StorageTool from the new archive")


def _tail(path: str, lines: int = 40) -> str:
    with open(path, "rb") as source:
        return "\n".join(source.read().decode(errors="replace").splitlines()[-lines:])


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kraft_entrypoint.cds", description=build.__doc__)
    parser.add_argument("--kafka-home", default=os.environ.get("KAFKA_HOME") or "/opt/kafka")
    parser.add_argument("--timeout", type=float, default=300, help="seconds each JVM may take")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        made = build(args.kafka_home, os.environ, args.timeout)
    except BuildError as error:
        _say(f"error: {error}")
        sys.exit(1)
    if made:
        _say(f"done in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
