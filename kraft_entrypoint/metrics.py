"""``METRICS=prometheus``: the Prometheus JMX exporter as a Java agent of the Kafka server JVM.

The image (and every installation scripts/kafka-dist assembles) carries the agent and our rules
under ``KAFKA_HOME/metrics``; ``installation.metrics_files`` looks at those two files.
``server_option`` (pure) turns the settings and those facts into the one JVM option the server
gets, ``-javaagent:<jar>=<port>:<rules>``, or refuses with a message naming ``METRICS``. The
option goes to the server's ``KAFKA_OPTS`` only (``server_kafka_opts``), never to the format JVM:
a second JVM with the agent would try to bind the same port.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from kraft_entrypoint.errors import InvalidInput

MODES = ("off", "prometheus")
DEFAULT_PORT = 9404
#: Where the agent and its rules live in an installation (the image: /opt/kafka/metrics).
AGENT_JAR = "metrics/jmx_prometheus_javaagent.jar"
RULES_FILE = "metrics/kafka-metrics.yml"


def parse_mode(value: Optional[str]) -> bool:
    """METRICS (``--metrics``): ``off`` (default) or ``prometheus``; True when it is on."""
    mode = (value or "off").strip().lower()
    if mode not in MODES:
        raise InvalidInput(
            f"METRICS (--metrics) must be off or prometheus, e.g. METRICS=prometheus; got {value!r}"
        )
    return mode == "prometheus"


def parse_port(value: Optional[str]) -> int:
    """METRICS_PORT (``--metrics-port``): the agent's HTTP port, default 9404."""
    text = (value or "").strip()
    if not text:
        return DEFAULT_PORT
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise InvalidInput(
            f"METRICS_PORT (--metrics-port) must be a port number 1-65535, e.g. 9404; got {value!r}"
        )
    return int(text)


@dataclass(frozen=True)
class Installation:
    """What an installation has of the metrics agent: its KAFKA_HOME and which files exist."""

    kafka_home: str
    has_agent: bool
    has_rules: bool



def server_option(enabled: bool, port: int, found: Installation) -> Optional[str]:
    """The server JVM's extra option (None: metrics off). Pure.

    Raises InvalidInput (exit 2) when METRICS=prometheus cannot be honoured: the agent or the rules
    are not in the installation, or its path cannot be carried by KAFKA_OPTS (the scripts split it
    on white space) or by the agent's argument (``<port>:<rules>`` is split at ``:``).
    """
    if not enabled:
        return None
    home = found.kafka_home.rstrip("/") or "/"
    jar = f"{home}/{AGENT_JAR}"
    rules = f"{home}/{RULES_FILE}"
    missing = [path for path, there in ((jar, found.has_agent), (rules, found.has_rules)) if not there]
    if missing:
        raise InvalidInput(
            f"METRICS=prometheus needs the Prometheus JMX exporter agent and its rules in the Kafka "
            f"installation, but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing "
            f"(KAFKA_HOME={found.kafka_home}); use the image, which has them, or METRICS=off"
        )
    if any(ch.isspace() or ch == ":" for ch in home):
        raise InvalidInput(
            f"METRICS=prometheus: KAFKA_HOME {found.kafka_home!r} has white space or ':' in its path, "
            f"which the agent's -javaagent option cannot carry; use METRICS=off or another KAFKA_HOME"
        )
    return f"-javaagent:{jar}={port}:{rules}"


def server_kafka_opts(environment: Mapping[str, str], option: Optional[str]) -> Optional[str]:
    """The server's KAFKA_OPTS with the agent appended (None: leave KAFKA_OPTS as it is). Pure."""
    if option is None:
        return None
    current = environment.get("KAFKA_OPTS", "").strip()
    return f"{current} {option}" if current else option
