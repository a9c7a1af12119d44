"""The installed Kafka: its version, read from the names in ``$KAFKA_HOME/libs``, and what it can do."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from typing import Optional

from kraft_entrypoint import metrics
from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.kafka_versions import (
    REFERENCE_VERSION,
    Capabilities,
    KafkaVersion,
    UnreadableVersion,
    UnsupportedVersion,
    capabilities,
    config_names_release,
)
from kraft_entrypoint.options import name

log = logging.getLogger("kraft_entrypoint")
#: The broker jar: kafka_<scala version>-<kafka version>[-<classifier>].jar.
_BROKER_JAR = re.compile(r"kafka_([0-9]+(?:\.[0-9]+)+)-(.+)\.jar")
#: Classifier jars of the same artifact that older distributions shipped next to it in libs/.
_CLASSIFIERS = ("-test", "-sources", "-javadoc", "-scaladoc", "-test-sources")
#: The package data scripts/config-names wrote: <version>.txt, one configuration name a line.
CONFIG_NAMES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "config_names")

def parse_libs(names: Iterable[str]) -> Optional[KafkaVersion]:
    """The Kafka release of a ``libs/`` listing, from its ``kafka_<scala>-<version>.jar``.

    None when there is no broker jar. Classifier jars (``-test``, ``-sources``, ``-javadoc``,
    ``-scaladoc``) and the other Kafka jars (``kafka-clients-*``, ``kafka-server-common-*``...)
    are ignored. Several broker jars (two versions, or two Scala builds) make the installation
    ambiguous: :class:`UnreadableVersion`, naming them. A version that is not ``x.y.z``
    (``4.0.0-rc1``, ``4.1.0-SNAPSHOT``) is refused rather than guessed.
    """
    jars: dict[str, str] = {}
    for jar in names:
        match = _BROKER_JAR.fullmatch(jar)
        if match is None or match[2].endswith(_CLASSIFIERS):
            continue
        jars[jar] = match[2]
    if not jars:
        return None
    if len(jars) > 1:
        raise UnreadableVersion(
            "libs/ holds several Kafka broker jars (" + ", ".join(sorted(jars)) + "); "
            "an installation has exactly one kafka_<scala>-<version>.jar"
        )
    ((jar, text),) = jars.items()
    try:
        return KafkaVersion.parse(text)
    except UnreadableVersion as error:
        raise UnreadableVersion(f"libs/{jar}: {error}") from None


def read_version(kafka_home: str) -> Optional[KafkaVersion]:
    """The Kafka release installed in ``kafka_home``; None when it has no ``libs/`` or no broker jar.

    Raises what :func:`parse_libs` raises for an ambiguous or unreadable installation, and every
    OSError but a missing ``libs/`` (ENOENT): a ``libs`` that is a file, or that cannot be read,
    is not taken for "no Kafka here".
    """
    try:
        names = os.listdir(os.path.join(kafka_home, "libs"))
    except FileNotFoundError:
        return None
    return parse_libs(names)


def read_capabilities(kafka_home: str, declared: Optional[KafkaVersion] = None) -> Capabilities:
    """What the installed Kafka can do, from the version of its broker jar in libs/.

    ``declared`` (KAFKA_VERSION) names the version of a KAFKA_HOME without that jar (a --dry-run
    with only a template); with the jar it must agree. Neither: the version is not guessed.
    """
    try:
        version = read_version(kafka_home)
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise InvalidInput(
            f"cannot tell the Kafka version in {kafka_home}/libs ({name('KAFKA_HOME')}): {reason}; "
            "it must hold Kafka's kafka_<scala>-<version>.jar"
        ) from None
    if version is None and declared is None:
        raise InvalidInput(
            f"cannot tell the Kafka version: {kafka_home}/libs ({name('KAFKA_HOME')}) holds no "
            f"kafka_<scala>-<version>.jar and {name('KAFKA_VERSION')} is not set; point KAFKA_HOME at "
            "a Kafka installation, or (for a --dry-run without one) name its version, e.g. "
            f"KAFKA_VERSION={REFERENCE_VERSION}"
        )
    if version is None:
        assert declared is not None
        log.info(
            "Kafka version: %s (from %s; %s/libs holds no Kafka jar)",
            declared,
            name("KAFKA_VERSION"),
            kafka_home,
        )
        version, source = declared, f"{name('KAFKA_VERSION')} is {declared}"
    else:
        if declared is not None and declared != version:
            raise InvalidInput(
                f"{name('KAFKA_VERSION')} is {declared}, but {kafka_home}/libs ({name('KAFKA_HOME')}) "
                f"holds Kafka {version}; unset KAFKA_VERSION (the installation's own version is used) "
                f"or set it to {version}"
            )
        log.info("Kafka version: %s (from %s/libs)", version, kafka_home)
        source = f"{name('KAFKA_HOME')} {kafka_home} holds Kafka {version}"
    try:
        return capabilities(version)
    except UnsupportedVersion as error:
        raise InvalidInput(f"{source}: {error}") from None


def metrics_files(kafka_home: str) -> metrics.Installation:
    """Whether KAFKA_HOME/metrics holds the JMX exporter agent and our rules (existence only)."""
    return metrics.Installation(
        kafka_home,
        os.path.isfile(os.path.join(kafka_home, metrics.AGENT_JAR)),
        os.path.isfile(os.path.join(kafka_home, metrics.RULES_FILE)),
    )


def config_names(version: KafkaVersion) -> tuple[Optional[KafkaVersion], frozenset[str]]:
    """The configuration names of ``version`` (package data), or of the newest listed release
    below it (the first element says which); ``(None, empty)`` when every list is newer."""
    listed = [
        KafkaVersion.parse(entry[: -len(".txt")])
        for entry in os.listdir(CONFIG_NAMES_DIR)
        if entry.endswith(".txt")
    ]
    release = config_names_release(version, listed)
    if release is None:
        return None, frozenset()
    with open(os.path.join(CONFIG_NAMES_DIR, f"{release}.txt"), encoding="utf-8") as names:
        return release, frozenset(line.strip() for line in names if line.strip())
