"""The format JVM's environment: ``kafka-storage.sh format`` runs on a new node only and lives
under a second. Pure: the entrypoint's environment in, the format JVM's out.

Measured one flag at a time against what ``kafka-run-class.sh`` gives every JVM (bench F1,
docs/performance.md), on 3.3.2, 3.9.2 and 4.4.0:

- its own small heap, never the server's (``KAFKA_HEAP_OPTS``);
- C1 only (``-XX:TieredStopAtLevel=1``): no C2 compiler threads for code that never gets hot;
- no JMX agent. With ``KAFKA_JMX_OPTS`` unset the script adds ``-Dcom.sun.management.jmxremote``,
  which starts the JMX agent and its local connector in the JVM before ``main``: about 0.35 s
  of a format JVM's 0.8 s here, for an agent nobody attaches to a JVM that lives a second.
  ``JMX_PORT``, which a user sets for the server, would start it on that port as well.

The serial GC, ``-XX:-UsePerfData`` and ``-Xss256k`` were measured and not kept.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Kafka 3.3.2's formatter fails with 32 MiB (OutOfMemoryError) and passes with 48 MiB; 128 MiB
#: leaves room on every version.
FORMAT_HEAP_OPTS = "-Xmx128m"
#: What kafka-run-class.sh uses when KAFKA_JVM_PERFORMANCE_OPTS is unset (3.3.2 to 4.4.0 alike).
KAFKA_PERFORMANCE_OPTS = (
    "-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 "
    "-XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true"
)
FORMAT_PERFORMANCE_OPTS = f"{KAFKA_PERFORMANCE_OPTS} -XX:TieredStopAtLevel=1"
#: What kafka-run-class.sh uses when KAFKA_JMX_OPTS is unset or empty (3.3.2 to 4.4.0 alike).
KAFKA_JMX_OPTS = (
    "-Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false "
    "-Dcom.sun.management.jmxremote.ssl=false"
)
#: A KAFKA_JMX_OPTS that is not empty, so the script keeps it instead of its default, and names
#: no JMX property, so no agent starts. It only marks the format JVM in ``ps``.
NO_JMX_AGENT = "-Dkraft.format.jmx=off"


def environment(environment: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """``environment`` for the format JVM, and what it gets for the format's log line: always its
    small heap and no JMX agent (``JMX_PORT`` dropped: it is the server's); the start-up flags
    unless KAFKA_JVM_PERFORMANCE_OPTS is set, which a user means for both JVMs."""
    result = {key: value for key, value in environment.items() if key != "JMX_PORT"}
    result["KAFKA_HEAP_OPTS"] = FORMAT_HEAP_OPTS
    result["KAFKA_JMX_OPTS"] = NO_JMX_AGENT
    flags = "KAFKA_JVM_PERFORMANCE_OPTS as given"
    if not environment.get("KAFKA_JVM_PERFORMANCE_OPTS"):
        result["KAFKA_JVM_PERFORMANCE_OPTS"] = FORMAT_PERFORMANCE_OPTS
        flags = "C1 only"
    return result, f"its JVM: {FORMAT_HEAP_OPTS}, {flags}, no JMX agent"
