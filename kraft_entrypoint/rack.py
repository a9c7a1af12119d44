"""RACK / RACK_FILE: the broker's rack (``broker.rack``) and the rack-aware replica selector. Pure.

Kafka puts no rule on ``broker.rack`` beyond its wire strings (at most 32767 bytes); it trims the
value (ConfigDef STRING) and compares it byte for byte with consumers' ``client.rack``. What is
refused here is what can only be a mistake: an empty rack, white space around it (Kafka would
silently trim it, so the rack in the logs and the one in the cluster would differ), control or
invisible characters (a second line of a file, a stray carriage return), and more than
:data:`MAX_LENGTH` characters (a zone label has at most 63; a longer "rack" is a wrong file).
"""

from __future__ import annotations

from typing import Optional

from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.options import name

SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
#: Bytes read of RACK_FILE at most: a rack file is one short line.
MAX_FILE_BYTES = 4096
MAX_LENGTH = 255
EXAMPLE = "eu-west-1a"


def check(variable: str, rack: str) -> str:
    """``rack`` as given by ``variable`` (RACK or RACK_FILE), or InvalidInput naming it."""
    problem = None
    if not rack:
        problem = "is empty"
    elif rack != rack.strip():
        problem = f"has white space around it ({rack!r})"
    elif not rack.isprintable():
        problem = f"has a control or invisible character ({rack!r})"
    elif len(rack) > MAX_LENGTH:
        problem = f"is {len(rack)} characters long, more than {MAX_LENGTH}"
    if problem is not None:
        raise InvalidInput(
            f"the rack from {name(variable)} {problem}; a rack is one word such as a zone, e.g. {EXAMPLE}"
        )
    return rack


def given(value: Optional[str]) -> Optional[str]:
    """RACK as the environment or flag gave it: None when unset or blank, else checked as it is."""
    if value is None or not value.strip():
        return None
    return check("RACK", value)


def from_file(data: bytes, path: str) -> str:
    """The content of RACK_FILE (one trailing newline removed) as a checked rack."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(
            f"{name('RACK_FILE')} {path} is not UTF-8 text; it should hold the rack, e.g. {EXAMPLE}"
        ) from None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    return check("RACK_FILE", text)


def properties(rack: Optional[str], broker: bool) -> dict[str, str]:
    """broker.rack and the rack-aware replica selector, for a node that runs the broker role.

    A controller-only node holds no partition replicas and serves no fetches: both are broker
    settings, so it gets neither. (Kafka 3.3.2 and 4.4.0 start a process.roles=controller node
    with them all the same and ignore them: its voter entry shows "rack: null".)
    """
    if rack is None or not broker:
        return {}
    return {"broker.rack": rack, "replica.selector.class": SELECTOR}
