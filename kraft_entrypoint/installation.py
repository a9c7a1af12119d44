"""Placeholder (replaced by the full module on its branch)."""

from __future__ import annotations

import os
import re
from typing import Optional

from kraft_entrypoint.versions import KafkaVersion


def read_version(kafka_home: str) -> Optional[KafkaVersion]:
    try:
        names = os.listdir(os.path.join(kafka_home, "libs"))
    except FileNotFoundError:
        return None
    for entry in names:
        match = re.fullmatch(r"kafka_[0-9.]+-([0-9]+)\.([0-9]+)\.([0-9]+)\.jar", entry)
        if match:
            return KafkaVersion(*(int(part) for part in match.groups()))
    return None
