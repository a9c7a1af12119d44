"""Build time: ``python -m kraft_entrypoint.cds_build`` makes ``KAFKA_HOME/cds`` for the image's JDK.

A real run of Kafka's own scripts: ``kafka-storage.sh format`` of a temporary directory, then a
throw-away single node on 127.0.0.1 that answers one ApiVersions request and is stopped with
SIGTERM. Java 11/12 (or a JDK without a base archive): the loaded classes are listed and dumped
into static archives; 13+: dynamic archives written as each JVM exits. The stamp that the
entrypoint checks at start (:mod:`kraft_entrypoint.cds`) is written last. Kept apart from the
start-time module so that a pod's start imports none of this.
"""

from __future__ import annotations

import argparse
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
from typing import Optional

from kraft_entrypoint.cds import (
    ARCHIVE_DIR,
    ARCHIVES,
    JVM_OPTION_VARIABLES,
    TOOLS,
    fingerprint,
    java_path,
    write_stamp,
)

#: A valid id for the throw-away node of the build (fixed, so the build does the same every time).
BUILD_CLUSTER_ID = "a3JhZnQtY2RzLWJ1aWxkIQ"  # base64 of "kraft-cds-build!"


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
    java = java_path(environment)
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
    parser = argparse.ArgumentParser(prog="python -m kraft_entrypoint.cds_build", description=build.__doc__)
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
