"""Class-data sharing (CDS) archives for Kafka's two JVMs: made when the image is built, used at start.

Build time, ``python -m kraft_entrypoint.cds_build`` (the Dockerfile runs it once Kafka is in place):
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

import json
import logging
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

log = logging.getLogger("kraft_entrypoint")

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
    java = java_path(environment)
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


def java_path(environment: Mapping[str, str]) -> str:
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
