"""One input at a time: text into a typed value, or InvalidInput naming the variable with an example.

Pure: no I/O, no environment (the KAFKA_CFG_* variables arrive as a mapping).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from kraft_entrypoint import cluster_id
from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.options import OVERRIDE_PREFIX, default, name

MAX_NODE_ID = cluster_id.MAX_NODE_ID
MAX_DNS_NAME = 253
PLACEHOLDER = "{ordinal}"
CDS_MODES = ("auto", "off")
_PORT_EXAMPLES = {
    "BROKER_PORT": "9092",
    "CONTROLLER_PORT": "9093",
    "EXTERNAL_PORT": "9094",
    "EXTERNAL_ADVERTISED_PORT": "31094",
    "EXTERNAL_PORT_BASE": "31090",
}

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_POD_NAME = re.compile(r"(?P<statefulset>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-(?P<ordinal>0|[1-9][0-9]*)\Z")
_OVERRIDE_NAME = re.compile(r"[A-Za-z0-9_]+\Z")
_USER_NAME = re.compile(r"[A-Za-z0-9][-._A-Za-z0-9]{0,252}\Z")
# A DNS name (labels of letters, digits, '-'), an IPv4 address, or an IPv6 address.
_HOST = re.compile(
    r"([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*"
    r"\.?\Z|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\Z"
)


@dataclass(frozen=True)
class Override:
    """A KAFKA_CFG_* variable and the broker property it sets."""

    variable: str
    key: str
    value: str


def parse_overrides(environment: Mapping[str, str]) -> tuple[Override, ...]:
    """KAFKA_CFG_<NAME> variables as properties: ``___`` -> ``-``, ``__`` -> ``_``, ``_`` -> ``.``."""
    overrides = []
    for variable in sorted(environment):
        if not variable.startswith(OVERRIDE_PREFIX):
            continue
        suffix = variable[len(OVERRIDE_PREFIX) :]
        key = suffix.lower().replace("___", "\0").replace("__", "\1").replace("_", ".")
        key = key.replace("\0", "-").replace("\1", "_")
        if not _OVERRIDE_NAME.match(suffix) or key.startswith(".") or key.endswith(".") or ".." in key:
            raise InvalidInput(
                f"{variable} does not name a broker property; write the property in upper case "
                "with '_' for '.', e.g. KAFKA_CFG_LOG_RETENTION_HOURS=24 for log.retention.hours"
            )
        overrides.append(Override(variable, key, clean(variable, environment[variable]) or ""))
    return tuple(overrides)


def clean(variable: str, value: Optional[str]) -> Optional[str]:
    """The value without surrounding blanks; None for an unset or blank one."""
    if value is None or not value.strip():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{name(variable)} is not valid UTF-8 text") from None
    return value.strip()


def show(value: str) -> str:
    """A value as messages quote it, cut at 80 characters."""
    return repr(value if len(value) <= 80 else value[:77] + "...")


def required(variable: str, value: Optional[str], example: str) -> str:
    if value is None:
        raise InvalidInput(f"{name(variable)} is required, e.g. {variable}={example}")
    return value


def pod_name(value: Optional[str]) -> tuple[str, int]:
    """HOSTNAME (or its FQDN's first label) as the StatefulSet's name and the pod's ordinal."""
    pod = required("HOSTNAME", value, "kafka-0").split(".", 1)[0]
    match = _POD_NAME.match(pod)
    if not match or len(pod) > 63 or int(match["ordinal"]) > MAX_NODE_ID:
        raise InvalidInput(
            f"{name('HOSTNAME')} must be a StatefulSet pod name <statefulset>-<ordinal> "
            f"(lower-case DNS label, at most 63 characters), e.g. kafka-0; got {show(pod)}"
        )
    return match["statefulset"], int(match["ordinal"])


def count(variable: str, value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]{1,10}", value) or not 1 <= int(value) <= MAX_NODE_ID:
        raise InvalidInput(
            f"{name(variable)} must be a whole number of at least 1, e.g. {variable}=3; got {show(value)}"
        )
    return int(value)


def broker_id_offset(value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", value) or not 1 <= int(value) <= MAX_NODE_ID // 2:
        raise InvalidInput(
            f"{name('BROKER_ID_OFFSET')} must be a whole number from 1 to {MAX_NODE_ID // 2}, "
            f"e.g. BROKER_ID_OFFSET=100; got {show(value)}"
        )
    return int(value)


def user_name(variable: str, value: str) -> str:
    if not _USER_NAME.match(value):
        raise InvalidInput(
            f"{name(variable)} must name users with letters, digits, '.', '_' or '-' "
            f"(as Secret keys are), e.g. {variable}=admin; got {show(value)}"
        )
    return value


def external_host(host: str, ordinal: int) -> str:
    """EXTERNAL_HOST as given (it may hold {ordinal}), checked with this pod's ordinal in place."""
    shown = host.replace(PLACEHOLDER, str(ordinal))
    if not _HOST.match(shown) or len(shown) > MAX_DNS_NAME:
        raise InvalidInput(
            f"{name('EXTERNAL_HOST')} must be a DNS name or IP address, optionally with {{ordinal}}, e.g. "
            f"EXTERNAL_HOST=kafka-{{ordinal}}.example.com or the node IP from status.hostIP; "
            f"got {show(host)}"
        )
    return host


def choice(variable: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidInput(
            f"{name(variable)} must be one of {', '.join(choices)}, e.g. {variable}={choices[0]}; "
            f"got {show(value)}"
        )
    return value


def cds_mode(value: Optional[str]) -> str:
    """KRAFT_CDS: ``auto`` (use the image's archives when they match this JDK) or ``off``, any case."""
    mode = (value or default("KRAFT_CDS")).strip().lower()
    if mode not in CDS_MODES:
        raise InvalidInput(f"KRAFT_CDS (--cds) must be auto or off, e.g. KRAFT_CDS=off; got {value!r}")
    return mode


def port(variable: str, value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,5}", value) or not 1 <= int(value) <= 65535:
        placeholder = f" ({PLACEHOLDER} only works in EXTERNAL_HOST)" if PLACEHOLDER in value else ""
        raise InvalidInput(
            f"{name(variable)} must be a port number from 1 to 65535{placeholder}, e.g. "
            f"{variable}={_PORT_EXAMPLES[variable]}; got {show(value)}"
        )
    return int(value)


def given_cluster_id(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    problem = cluster_id.problem_with(value)
    if problem is not None:
        raise InvalidInput(
            f"{name('CLUSTER_ID')} is not a Kafka cluster id ({problem}): it must be 22 characters of "
            f"URL-safe base64 encoding 16 bytes, like {cluster_id.EXAMPLE} in shape; "
            "`kraft-entrypoint --new-cluster-id` (or `python -m kraft_entrypoint --new-cluster-id`) "
            "prints a new one; got " + show(value)
        )
    return value


def path(variable: str, value: Optional[str]) -> Optional[str]:
    if value is not None and not value.startswith("/"):
        raise InvalidInput(
            f"{name(variable)} must be an absolute path, e.g. /var/lib/kafka; got {show(value)}"
        )
    return value


def label(variable: str, value: Optional[str], pattern: re.Pattern[str], example: str) -> str:
    text = required(variable, value, example)
    if not pattern.match(text) or len(text) > 63:
        raise InvalidInput(
            f"{name(variable)} must be a DNS label (lower-case letters, digits and '-', "
            f"at most 63 characters), e.g. {variable}={example}; got {show(text)}"
        )
    return text


def optional_label(
    variable: str, value: Optional[str], pattern: re.Pattern[str], example: str
) -> Optional[str]:
    return None if value is None else label(variable, value, pattern, example)


def domain(value: str) -> str:
    stripped = value[:-1] if value.endswith(".") else value
    labels = stripped.split(".")
    if len(stripped) > 253 or not all(DNS1123_LABEL.match(part) and len(part) <= 63 for part in labels):
        raise InvalidInput(
            f"{name('CLUSTER_DOMAIN')} must be a DNS domain such as cluster.local; got {show(value)}"
        )
    return stripped


def timeout(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= 86400:
        raise InvalidInput(
            f"{name('CLUSTER_ID_TIMEOUT')} must be a number of seconds from 0 to 86400, "
            f"e.g. CLUSTER_ID_TIMEOUT=300; got {show(value)}"
        )
    return seconds
