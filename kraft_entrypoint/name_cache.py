"""How long the Kafka server's JVM trusts a name lookup.

A restarted pod of a StatefulSet keeps its DNS name and gets a new address. The JVM keeps a
looked-up address 30 s (``networkaddress.cache.ttl`` unset) and a failed lookup 10 s (the JDK's
``networkaddress.cache.negative.ttl=10``), so a broker whose peer has just restarted connects to
the old address until the connection setup times out (10 s, then longer): replication and the
controller quorum stall. Measured on the real cluster of ``scripts/k8s``: during a rolling
restart a broker that restarted first could not reach the next restarted voter for 10 s, and the
quorum went through elections meanwhile.

``server_kafka_opts`` (pure) adds ``-Djava.security.properties=<name_cache.security>`` (1 s, and
no caching of failed lookups) to the server JVM's ``KAFKA_OPTS``, unless the user's own
``KAFKA_OPTS`` already says how the JVM caches names; never to the format JVM, which connects to
nothing.
"""

from __future__ import annotations

import os
from typing import Optional

#: The java.security properties file shipped in the package (see its comments).
SECURITY_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "name_cache.security")
#: Options through which KAFKA_OPTS already decides the JVM's name cache (the user's choice wins).
USER_CHOICES = ("-Djava.security.properties", "-Dsun.net.inetaddr.ttl", "-Dsun.net.inetaddr.negative.ttl")


def option(security_file: str = SECURITY_FILE) -> Optional[str]:
    """The JVM option, or None when the path cannot be carried by KAFKA_OPTS (the scripts split
    it on white space)."""
    return None if any(c.isspace() for c in security_file) else f"-Djava.security.properties={security_file}"


def server_kafka_opts(kafka_opts: str, security_file: str = SECURITY_FILE) -> tuple[Optional[str], str]:
    """The server's KAFKA_OPTS with the name cache option appended (None: leave it as it is), and
    the log line saying why. Pure."""
    current = kafka_opts.strip()
    chosen = next((choice for choice in USER_CHOICES if choice in current), None)
    if chosen is not None:
        return None, f"name cache: KAFKA_OPTS sets {chosen}; the server JVM caches names as it says"
    added = option(security_file)
    if added is None:
        return None, (f"name cache: {security_file} has white space in its path, which KAFKA_OPTS "
                      "cannot carry; the server JVM keeps names 30 s, failed lookups 10 s")
    return (f"{current} {added}" if current else added,
            "name cache: the server JVM keeps a looked-up address 1 s and no failed lookup "
            "(a restarted pod keeps its name but not its address)")
