"""The installed Kafka: its version, read from the names in ``$KAFKA_HOME/libs``."""

from __future__ import annotations

import os
from typing import Optional

from kraft_entrypoint.versions import KafkaVersion, parse_libs


def read_version(kafka_home: str) -> Optional[KafkaVersion]:
    """The Kafka release installed in ``kafka_home``; None when it has no ``libs/`` or no broker jar.

    Raises what :func:`kraft_entrypoint.versions.parse_libs` raises for an ambiguous or
    unreadable installation, and every OSError but a missing ``libs/`` (ENOENT): a ``libs``
    that is a file, or that cannot be read, is not taken for "no Kafka here".
    """
    try:
        names = os.listdir(os.path.join(kafka_home, "libs"))
    except FileNotFoundError:
        return None
    return parse_libs(names)
