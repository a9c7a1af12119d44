"""Inputs that are not understood: a variable a typo away from one the entrypoint reads, and a
``KAFKA_CFG_*`` override that names no configuration of the installed Kafka.

A typo must not silently change a cluster: each finding is one warning line (and, with
STRICT=true, part of the exit-2 message). Pure: the environment, the overrides and the known
configuration names arrive as arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Optional

from kraft_entrypoint.fields import Override
from kraft_entrypoint.options import OPTIONS, OVERRIDE_PREFIX, name

#: Variables the entrypoint reads besides its options: the server heap (memory) and the JVM
#: options it appends to (class-data sharing, metrics agent).
READ_TOO = ("KAFKA_HEAP_OPTS", "KAFKA_OPTS")
#: Exact names that are never a typo although the entrypoint does not read them: what Kafka's
#: own scripts read (kafka-run-class.sh, kafka-server-start.sh), what the JDK and the image
#: read, and what every container or pod gets.
NOT_OURS = frozenset({
    # Kafka's scripts
    "KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_GC_LOG_OPTS", "KAFKA_LOG4J_OPTS", "KAFKA_JMX_OPTS",
    "KAFKA_DEBUG", "DEBUG_SUSPEND_FLAG", "JAVA_DEBUG_PORT", "JAVA_DEBUG_OPTS", "JMX_PORT",
    "JMX_RMI_PORT", "LOG_DIR", "SCALA_VERSION", "SCALA_BINARY_VERSION", "CLASSPATH",
    "INCLUDE_TEST_JARS", "EXTRA_ARGS", "KAFKA_MODE", "KAFKA_LOG4J_CMD_OPTS",
    # the JDK and the image
    "JAVA_HOME", "JAVA_VERSION", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS",
    "LANG", "LANGUAGE", "LC_ALL", "TZ", "PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD",
    "OLDPWD", "SHLVL", "TERM", "HOSTNAME", "TMPDIR", "PYTHONPATH", "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV",
})
#: Variables Kubernetes injects for each Service of the namespace (service links):
#: <NAME>_SERVICE_HOST, <NAME>_SERVICE_PORT[_<PORT NAME>], <NAME>_PORT_<port>_<PROTOCOL>[_...].
_SERVICE_LINK = re.compile(
    r"[A-Z0-9_]+_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT_[0-9]+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)\Z"
)
#: ... and <NAME>_PORT, whose value is a URL such as tcp://10.96.0.12:9092.
_SERVICE_LINK_URL = re.compile(r"(tcp|udp|sctp)://[^\s]+:[0-9]+\Z")
#: Prefixes other images use for what KAFKA_CFG_ does here, too far from it for the edit rule.
OVERRIDE_ALIASES = ("KAFKA_CONF_", "KAFKA_CONFIG_")
#: Names of this many characters or more may be two edits from ours; shorter ones one edit.
LONG_NAME = 8
#: Prefixes under which any name is legitimate: the default prefixes of the remote log storage
#: plugins' own configurations (remote.log.storage.manager.impl.prefix, ...metadata.manager...).
FREE_PREFIXES = ("rsm.config.", "rlmm.config.")
_LISTENER_PREFIX = re.compile(r"listener\.name\.[a-z0-9_-]+\.")


@dataclass(frozen=True)
class Finding:
    """One input that is not understood: the variable, and the warning line about it."""

    variable: str
    message: str


def distance(a: str, b: str, limit: Optional[int] = None) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) that turn ``a`` into ``b``.

    With ``limit``, any answer above it is reported as ``limit + 1``, and only the cells within
    ``limit`` of the diagonal are computed (a start compares every variable with each of ours).
    """
    if limit is not None and abs(len(a) - len(b)) > limit:
        return limit + 1
    far = len(a) + len(b) + 1  # more than any distance: a cell outside the band
    band = far if limit is None else limit
    before: list[int] = []
    previous = [j if j <= band else far for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        row = [i if i <= band else far] + [far] * len(b)
        for j in range(max(1, i - band), min(len(b), i + band) + 1):
            cb = b[j - 1]
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if before and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], before[j - 2] + 1)
        if limit is not None and min(row) > limit:
            return limit + 1
        before, previous = previous, row
    result = previous[-1]
    return result if limit is None or result <= limit else limit + 1


def allowed_edits(known: str) -> int:
    """How far a name may be from ``known`` to be taken for a typo of it: 2, or 1 for short names."""
    return 2 if len(known) >= LONG_NAME else 1


def our_variables() -> tuple[str, ...]:
    """Every variable the entrypoint reads (its options, both commands, and :data:`READ_TOO`)."""
    return (*(option.variable for option in OPTIONS), *READ_TOO)


def is_service_link(variable: str, value: str) -> bool:
    """Whether Kubernetes' service links could have set this variable for a Service."""
    if variable.startswith("KUBERNETES_") or _SERVICE_LINK.match(variable):
        return True
    return variable.endswith("_PORT") and _SERVICE_LINK_URL.match(value) is not None


def unknown_variables(environment: Mapping[str, str], ours: Iterable[str]) -> tuple[Finding, ...]:
    """Variables a few edits from one of ``ours`` that are not ours themselves, sorted by name."""
    known = tuple(sorted(set(ours)))
    exact = set(known) | NOT_OURS
    findings = []
    for variable in sorted(environment):
        if variable in exact or variable.startswith(OVERRIDE_PREFIX):
            continue
        if is_service_link(variable, environment[variable]):
            continue
        meant = _nearest(variable, known)
        if meant is not None:
            findings.append(Finding(
                variable,
                f"{variable} is not a variable kraft-entrypoint reads and is ignored; did you mean "
                f"{name(meant)}?",
            ))
            continue
        override = misspelt_override(variable)
        if override is not None:
            findings.append(Finding(
                variable,
                f"{variable} is not a variable kraft-entrypoint reads and is ignored; did you mean "
                f"{override} (a Kafka property is set by {OVERRIDE_PREFIX} and its name)?",
            ))
    return tuple(findings)


def misspelt_override(variable: str) -> Optional[str]:
    """The KAFKA_CFG_* variable ``variable`` probably meant, when it starts with a misspelt
    ``KAFKA_CFG_`` (within :func:`allowed_edits` of it, or another image's ``KAFKA_CONF_``...).

    Of equally near spellings, a prefix ending in ``_`` wins, then the shortest (a character
    left out is likelier than one mistyped): ``KAFKA_CFGLOG_DIRS`` -> ``KAFKA_CFG_LOG_DIRS``.
    The prefix must keep two of C, F, G in order and leave a property name of 3 characters or
    more: ``KAFKA_LOG_DIRS`` (another image's convention) is two edits from ``KAFKA_CFG_`` too,
    but meant no ``KAFKA_CFG_DIRS``.
    """
    if variable.startswith(OVERRIDE_PREFIX):
        return None
    for alias in OVERRIDE_ALIASES:
        if variable.startswith(alias) and len(variable[len(alias):].lstrip("_")) >= 3:
            return OVERRIDE_PREFIX + variable[len(alias):].lstrip("_")
    allowed = allowed_edits(OVERRIDE_PREFIX)
    best: Optional[tuple[int, bool, int]] = None
    for end in range(max(1, len(OVERRIDE_PREFIX) - allowed), len(OVERRIDE_PREFIX) + allowed + 1):
        if end >= len(variable):
            break
        edits = distance(variable[:end], OVERRIDE_PREFIX, allowed)
        if edits > allowed or len(variable[end:].lstrip("_")) < 3 or not _cfg_kept(variable[5:end]):
            continue
        key = (edits, not variable[:end].endswith("_"), end)
        if best is None or key < best:
            best = key
    return None if best is None else OVERRIDE_PREFIX + variable[best[2]:].lstrip("_")


def _cfg_kept(part: str) -> bool:
    """Whether ``part`` has two of the letters C, F, G in that order (``_CGF_``, ``CF_``)."""
    return any(re.search(f"{a}.*{b}", part) for a, b in (("C", "F"), ("C", "G"), ("F", "G")))


def _nearest(variable: str, known: Iterable[str]) -> Optional[str]:
    best: Optional[tuple[int, str]] = None
    for candidate in known:
        allowed = allowed_edits(candidate)
        if abs(len(variable) - len(candidate)) > allowed:
            continue
        edits = distance(variable, candidate, allowed)
        if edits <= allowed and (best is None or edits < best[0]):
            best = (edits, candidate)
    return None if best is None else best[1]


def is_known_key(key: str, names: frozenset[str]) -> bool:
    """Whether ``key`` is a configuration Kafka knows, directly or under a listener's prefix
    (``listener.name.<listener>.<name>``, ``listener.name.<listener>.<mechanism>.<name>``)."""
    if key in names or key.startswith(FREE_PREFIXES):
        return True
    prefix = _LISTENER_PREFIX.match(key)
    if prefix is None:
        return False
    rest = key[prefix.end():]
    return rest in names or rest.partition(".")[2] in names


def override_variable(key: str) -> str:
    """The KAFKA_CFG_* variable that sets ``key`` (``log.retention.hours`` ->
    ``KAFKA_CFG_LOG_RETENTION_HOURS``)."""
    return OVERRIDE_PREFIX + key.replace("_", "__").replace("-", "___").replace(".", "_").upper()


def nearest_name(key: str, names: Iterable[str]) -> str:
    """The known name fewest edits from ``key`` (the first in sorted order of equally near ones)."""
    best, best_edits = "", len(key) + max((len(known) for known in names), default=0) + 1
    for known in sorted(names):
        edits = distance(key, known, best_edits - 1)
        if edits < best_edits:
            best, best_edits = known, edits
    return best


def unknown_overrides(
    overrides: Iterable[Override], names: frozenset[str], written: frozenset[str], version: str
) -> tuple[Finding, ...]:
    """Overrides that set a property which is neither one of ``names`` (the installed Kafka's
    configurations, of release ``version``) nor one the template or the entrypoint writes."""
    findings = []
    for override in overrides:
        if override.key in written or is_known_key(override.key, names):
            continue
        meant = nearest_name(override.key, names)
        findings.append(Finding(
            override.variable,
            f"{override.variable} sets {override.key}, which is not a broker or controller "
            f"configuration of Kafka {version}; did you mean {meant} ({override_variable(meant)})?",
        ))
    return tuple(findings)


def strict_message(findings: Iterable[Finding]) -> str:
    """The exit-2 message of STRICT=true: every input that is not understood."""
    variables = ", ".join(finding.variable for finding in findings)
    return (
        f"{name('STRICT')}=true and these inputs are not understood: {variables}; correct or remove "
        "them (see the warnings above), or set STRICT=false to start with warnings only"
    )
