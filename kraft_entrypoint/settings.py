"""Every input of the entrypoint, validated into one frozen value. No I/O, no os.environ."""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from kraft_entrypoint import cluster_id
from kraft_entrypoint.cds import parse_mode as _cds_mode
from kraft_entrypoint.errors import InvalidInput

OVERRIDE_PREFIX = "KAFKA_CFG_"
MAX_VOTERS = 1000
MAX_NODE_ID = 2**31 - 1

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_POD_NAME = re.compile(r"(?P<statefulset>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-(?P<ordinal>0|[1-9][0-9]*)\Z")
_OVERRIDE_NAME = re.compile(r"[A-Za-z0-9_]+\Z")


@dataclass(frozen=True)
class Option:
    """One input: its environment variable, its flag, and what --help says of it.

    ``default`` is applied when the input is unset or empty; ``derived_default`` only describes,
    for --help, a default that parse_settings computes from other inputs.
    """

    variable: str
    flag: str
    help: str
    default: Optional[str] = None
    derived_default: Optional[str] = None


OPTIONS = (
    Option("HOSTNAME", "--hostname", "Pod name <statefulset>-<ordinal>; an FQDN's first label counts."),
    Option("REPLICAS", "--replicas", "Pods in the StatefulSet; ordinals 0..REPLICAS-1 are the voters "
           "unless CONTROLLER_REPLICAS is set."),
    Option("CONTROLLER_REPLICAS", "--controller-replicas", "Ordinals 0..N-1 are the controller quorum; "
           "higher ordinals run as brokers only."),
    Option("SERVICE", "--service", "Headless Service name (the StatefulSet's serviceName)."),
    Option("NAMESPACE", "--namespace", "Kubernetes namespace of the pod."),
    Option("CLUSTER_DOMAIN", "--cluster-domain", "Cluster DNS domain.", "cluster.local"),
    Option("SHARE_DIR", "--share-dir", "Shared directory holding cluster_id; log.dirs defaults to "
           "SHARE_DIR/<node id>."),
    Option("DATA_DIR", "--data-dir", "This node's log.dirs (for per-pod volumes).",
           derived_default="SHARE_DIR/<node id>"),
    Option("CLUSTER_ID", "--cluster-id", "Cluster id (22 characters of URL-safe base64); wins over "
           "SHARE_DIR/cluster_id."),
    Option("CLUSTER_ID_TIMEOUT", "--cluster-id-timeout", "Seconds to wait for a readable shared "
           "cluster id.", "300"),
    Option("BROKER_PORT", "--broker-port", "PLAINTEXT listener port.", "9092"),
    Option("CONTROLLER_PORT", "--controller-port", "CONTROLLER listener port.", "9093"),
    Option("KAFKA_HOME", "--kafka-home", "Kafka installation; tools in KAFKA_HOME/bin.", "/opt/kafka"),
    Option("KRAFT_TEMPLATE", "--template", "Template server.properties, read and never written.",
           derived_default="KAFKA_HOME/config/kraft/server.properties"),
    Option("KRAFT_CONFIG", "--config", "Where the generated server.properties is written.",
           derived_default="KAFKA_HOME/config/kraft/server.generated.properties"),
    Option("KRAFT_CDS", "--cds", "auto: Kafka's JVMs use the image's class-data sharing archives "
           "(KAFKA_HOME/cds) when they match this JDK; off: never.", "auto"),
)
FLAGS = {option.variable: option.flag for option in OPTIONS}
DEFAULTS = {option.variable: option.default for option in OPTIONS}


@dataclass(frozen=True)
class Override:
    """A KAFKA_CFG_* variable and the broker property it sets."""

    variable: str
    key: str
    value: str


@dataclass(frozen=True)
class Settings:
    statefulset: str
    ordinal: int
    replicas: Optional[int]
    controller_replicas: Optional[int]
    service: str
    namespace: str
    cluster_domain: str
    share_dir: Optional[str]
    data_dir: str
    cluster_id: Optional[str]
    cluster_id_timeout: float
    broker_port: int
    controller_port: int
    kafka_home: str
    template: str
    config: str
    overrides: tuple[Override, ...]
    cds: str = "auto"

    @property
    def voter_count(self) -> int:
        count = self.controller_replicas if self.controller_replicas is not None else self.replicas
        assert count is not None  # parse_settings requires one of them
        return count


def name(variable: str) -> str:
    """How messages name an input: the variable and, where there is one, its flag."""
    flag = FLAGS.get(variable)
    return f"{variable} ({flag})" if flag else variable


def parse_settings(values: Mapping[str, Optional[str]], environment: Mapping[str, str]) -> Settings:
    """Validate raw option values (keyed by variable name) and the KAFKA_CFG_* variables.

    Raises InvalidInput, naming the variable and showing a valid value, at the first problem.
    """
    raw = {
        option.variable: _clean(option.variable, values.get(option.variable)) or option.default
        for option in OPTIONS
    }

    def defaulted(variable: str) -> str:
        value = raw[variable]
        assert value is not None  # OPTIONS gives this variable a default
        return value

    statefulset, ordinal = _pod_name(raw["HOSTNAME"])
    replicas = _count("REPLICAS", raw["REPLICAS"])
    controller_replicas = _count("CONTROLLER_REPLICAS", raw["CONTROLLER_REPLICAS"])
    _check_quorum(ordinal, replicas, controller_replicas)

    broker_port = _port("BROKER_PORT", defaulted("BROKER_PORT"))
    controller_port = _port("CONTROLLER_PORT", defaulted("CONTROLLER_PORT"))
    if broker_port == controller_port:
        raise InvalidInput(
            f"{name('BROKER_PORT')} and {name('CONTROLLER_PORT')} are both {broker_port}; "
            "the two listeners need different ports, e.g. 9092 and 9093"
        )

    given_id = raw["CLUSTER_ID"]
    if given_id is not None:
        _check_cluster_id(given_id)
    share_dir = _path("SHARE_DIR", raw["SHARE_DIR"])
    data_dir = _path("DATA_DIR", raw["DATA_DIR"])
    if share_dir is None and (data_dir is None or given_id is None):
        raise InvalidInput(
            f"{name('SHARE_DIR')} is required unless both CLUSTER_ID and DATA_DIR are set, "
            "e.g. SHARE_DIR=/mnt/kafka"
        )
    if data_dir is None:
        assert share_dir is not None
        data_dir = posixpath.join(share_dir, str(ordinal))
    if "," in data_dir:
        raise InvalidInput(
            f"{name('DATA_DIR')} names one directory, got {_show(data_dir)}; "
            "for several log directories set KAFKA_CFG_LOG_DIRS"
        )

    kafka_home = defaulted("KAFKA_HOME")
    _path("KAFKA_HOME", kafka_home)
    template = _path("KRAFT_TEMPLATE", raw["KRAFT_TEMPLATE"]) or posixpath.join(
        kafka_home, "config", "kraft", "server.properties"
    )
    config = _path("KRAFT_CONFIG", raw["KRAFT_CONFIG"]) or posixpath.join(
        kafka_home, "config", "kraft", "server.generated.properties"
    )
    if posixpath.normpath(config) == posixpath.normpath(template):
        raise InvalidInput(
            f"{name('KRAFT_CONFIG')} is the template {_show(template)}; the template is never "
            "written, so point KRAFT_CONFIG elsewhere, e.g. /var/lib/kafka/config/server.properties"
        )

    return Settings(
        statefulset=statefulset,
        ordinal=ordinal,
        replicas=replicas,
        controller_replicas=controller_replicas,
        service=_label("SERVICE", raw["SERVICE"], _DNS1035_LABEL, "kafka-svc"),
        namespace=_label("NAMESPACE", raw["NAMESPACE"], _DNS1123_LABEL, "kafka-kraft"),
        cluster_domain=_domain(defaulted("CLUSTER_DOMAIN")),
        share_dir=share_dir,
        data_dir=data_dir,
        cluster_id=given_id,
        cluster_id_timeout=_timeout(defaulted("CLUSTER_ID_TIMEOUT")),
        broker_port=broker_port,
        controller_port=controller_port,
        kafka_home=kafka_home,
        template=template,
        config=config,
        overrides=parse_overrides(environment),
        cds=_cds_mode(raw["KRAFT_CDS"]),
    )


def parse_overrides(environment: Mapping[str, str]) -> tuple[Override, ...]:
    """KAFKA_CFG_<NAME> variables as properties: ``___`` -> ``-``, ``__`` -> ``_``, ``_`` -> ``.``."""
    overrides = []
    for variable in sorted(environment):
        if not variable.startswith(OVERRIDE_PREFIX):
            continue
        suffix = variable[len(OVERRIDE_PREFIX):]
        key = suffix.lower().replace("___", "\0").replace("__", "\1").replace("_", ".")
        key = key.replace("\0", "-").replace("\1", "_")
        if not _OVERRIDE_NAME.match(suffix) or key.startswith(".") or key.endswith(".") or ".." in key:
            raise InvalidInput(
                f"{variable} does not name a broker property; write the property in upper case "
                "with '_' for '.', e.g. KAFKA_CFG_LOG_RETENTION_HOURS=24 for log.retention.hours"
            )
        overrides.append(Override(variable, key, _clean(variable, environment[variable]) or ""))
    return tuple(overrides)


def _clean(variable: str, value: Optional[str]) -> Optional[str]:
    if value is None or not value.strip():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{name(variable)} is not valid UTF-8 text") from None
    return value.strip()


def _show(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


def _required(variable: str, value: Optional[str], example: str) -> str:
    if value is None:
        raise InvalidInput(f"{name(variable)} is required, e.g. {variable}={example}")
    return value


def _pod_name(value: Optional[str]) -> tuple[str, int]:
    pod = _required("HOSTNAME", value, "kafka-0").split(".", 1)[0]
    match = _POD_NAME.match(pod)
    if not match or len(pod) > 63 or int(match["ordinal"]) > MAX_NODE_ID:
        raise InvalidInput(
            f"{name('HOSTNAME')} must be a StatefulSet pod name <statefulset>-<ordinal> "
            f"(lower-case DNS label, at most 63 characters), e.g. kafka-0; got {_show(pod)}"
        )
    return match["statefulset"], int(match["ordinal"])


def _count(variable: str, value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]{1,10}", value) or not 1 <= int(value) <= MAX_NODE_ID:
        raise InvalidInput(f"{name(variable)} must be a whole number of at least 1, e.g. {variable}=3; "
                           f"got {_show(value)}")
    return int(value)


def _check_quorum(ordinal: int, replicas: Optional[int], controller_replicas: Optional[int]) -> None:
    if replicas is None and controller_replicas is None:
        raise InvalidInput(f"{name('REPLICAS')} is required (or CONTROLLER_REPLICAS), e.g. REPLICAS=3")
    if controller_replicas is not None:
        if replicas is not None and controller_replicas > replicas:
            raise InvalidInput(
                f"{name('CONTROLLER_REPLICAS')}={controller_replicas} is more than "
                f"{name('REPLICAS')}={replicas}; the voters are ordinals 0..CONTROLLER_REPLICAS-1 "
                "and must all exist, e.g. CONTROLLER_REPLICAS=3 with REPLICAS=5"
            )
        voters_variable, voters = "CONTROLLER_REPLICAS", controller_replicas
    else:
        assert replicas is not None
        voters_variable, voters = "REPLICAS", replicas
        if ordinal >= replicas:
            raise InvalidInput(
                f"pod ordinal {ordinal} is outside {name('REPLICAS')}={replicas} (voters 0..{replicas - 1}); "
                f"to run pods past the quorum as brokers only, set CONTROLLER_REPLICAS, "
                f"e.g. CONTROLLER_REPLICAS={replicas}"
            )
    if voters > MAX_VOTERS:
        raise InvalidInput(
            f"{name(voters_variable)}={voters} would make a controller quorum of {voters} voters "
            f"(at most {MAX_VOTERS}); keep the quorum small with CONTROLLER_REPLICAS=3"
        )


def _port(variable: str, value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,5}", value) or not 1 <= int(value) <= 65535:
        raise InvalidInput(f"{name(variable)} must be a port number from 1 to 65535, e.g. "
                           f"{variable}={DEFAULTS[variable]}; got {_show(value)}")
    return int(value)


def _check_cluster_id(value: str) -> None:
    problem = cluster_id.problem_with(value)
    if problem is not None:
        raise InvalidInput(
            f"{name('CLUSTER_ID')} is not a Kafka cluster id ({problem}): it must be 22 characters of "
            f"URL-safe base64 encoding 16 bytes, e.g. {cluster_id.EXAMPLE} "
            "(kafka-storage.sh random-uuid makes one); got " + _show(value)
        )


def _path(variable: str, value: Optional[str]) -> Optional[str]:
    if value is not None and not value.startswith("/"):
        raise InvalidInput(f"{name(variable)} must be an absolute path, e.g. /var/lib/kafka; "
                           f"got {_show(value)}")
    return value


def _label(variable: str, value: Optional[str], pattern: re.Pattern[str], example: str) -> str:
    label = _required(variable, value, example)
    if not pattern.match(label) or len(label) > 63:
        raise InvalidInput(
            f"{name(variable)} must be a DNS label (lower-case letters, digits and '-', "
            f"at most 63 characters), e.g. {variable}={example}; got {_show(label)}"
        )
    return label


def _domain(value: str) -> str:
    domain = value[:-1] if value.endswith(".") else value
    labels = domain.split(".")
    if len(domain) > 253 or not all(_DNS1123_LABEL.match(label) and len(label) <= 63 for label in labels):
        raise InvalidInput(
            f"{name('CLUSTER_DOMAIN')} must be a DNS domain such as cluster.local; got {_show(value)}"
        )
    return domain


def _timeout(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= 86400:
        raise InvalidInput(f"{name('CLUSTER_ID_TIMEOUT')} must be a number of seconds from 0 to 86400, "
                           f"e.g. CLUSTER_ID_TIMEOUT=300; got {_show(value)}")
    return seconds
