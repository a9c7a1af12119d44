"""Every input of the entrypoint, validated into one frozen value grouped as --help groups them.

Each input is parsed by ``fields.py`` with the default of ``options.py``; here the inputs are
checked against each other, and the two values derived from several of them (the node id, the
voter count) are computed, once. No I/O; the process environment arrives as a mapping.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from kraft_entrypoint import fields, layout
from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.fields import DNS1035_LABEL, DNS1123_LABEL, MAX_DNS_NAME, Override
from kraft_entrypoint.kafka_versions import KafkaVersion, VersionError
from kraft_entrypoint.memory import parse_memory_limit, parse_percent
from kraft_entrypoint.metrics import parse_mode, parse_port
from kraft_entrypoint.options import OPTIONS, name
from kraft_entrypoint.rack import given as given_rack
from kraft_entrypoint.security_settings import External, Security, parse_external, parse_security


@dataclass(frozen=True)
class Pod:
    """Pod and cluster: which pod of which StatefulSet, and its DNS."""

    statefulset: str
    ordinal: int
    replicas: Optional[int]
    controller_replicas: Optional[int]
    service: str
    namespace: str
    cluster_domain: str


@dataclass(frozen=True)
class Storage:
    """Cluster id and storage."""

    share_dir: Optional[str]
    data_dir: str
    cluster_id: Optional[str]
    cluster_id_timeout: float


@dataclass(frozen=True)
class KafkaFiles:
    """Files: the installation, the template, the generated config, class-data sharing."""

    kafka_home: str
    template: Optional[str]  # None: the version's own template in KAFKA_HOME
    config: Optional[str]  # None: server.generated.properties beside the template
    cds: str
    #: KAFKA_VERSION: the version of a KAFKA_HOME without a broker jar in libs/ (None: unset)
    kafka_version: Optional[KafkaVersion] = None


@dataclass(frozen=True)
class Quorum:
    """Quorum: static or dynamic, and the StatefulSet of dedicated controllers if there is one."""

    mode: str  # static / dynamic
    controller_statefulset: Optional[str]
    controller_service: Optional[str]  # SERVICE unless given; None without dedicated controllers
    broker_id_offset: int

    @property
    def dedicated(self) -> bool:
        """Whether controllers run in their own StatefulSet."""
        return self.controller_statefulset is not None

    @property
    def dynamic(self) -> bool:
        return self.mode == "dynamic"


@dataclass(frozen=True)
class Memory:
    """Memory: the container's limit when given (MEMORY_LIMIT), and the heap's share of it."""

    limit: Optional[int]  # bytes; None: the cgroup's, read at start
    heap_percent: int


@dataclass(frozen=True)
class Metrics:
    """Metrics: the Prometheus JMX exporter agent on the server JVM (METRICS, METRICS_PORT)."""

    enabled: bool
    port: int


@dataclass(frozen=True)
class Rack:
    """Rack: RACK as given, or the RACK_FILE that holds it (read at start); at most one of them."""

    value: Optional[str]
    file: Optional[str]


@dataclass(frozen=True)
class Settings:
    pod: Pod
    storage: Storage
    files: KafkaFiles
    security: Security
    external: Optional[External]
    quorum: Quorum
    overrides: tuple[Override, ...]
    memory: Memory
    metrics: Metrics
    rack: Rack
    #: Derived, once: this pod's node.id (broker pods of a dedicated layout add BROKER_ID_OFFSET).
    node_id: int
    #: Derived, once: the controllers of the initial quorum (CONTROLLER_REPLICAS, else REPLICAS).
    voter_count: int
    #: STRICT=true: an input that is not understood exits 2 instead of a warning.
    strict: bool = False
    #: KAFKA_UNTESTED=allow: a Kafka of a major version above the known ones may start.
    allow_untested_kafka: bool = False

    @property
    def is_controller_pod(self) -> bool:
        """A pod of the dedicated controller StatefulSet."""
        return self.quorum.controller_statefulset == self.pod.statefulset


def parse_settings(values: Mapping[str, Optional[str]], environment: Mapping[str, str]) -> Settings:
    """Validate raw option values (keyed by variable name) and the KAFKA_CFG_* variables.

    Raises InvalidInput, naming the variable and showing a valid value, at the first problem.
    """
    raw = {
        option.variable: fields.clean(option.variable, values.get(option.variable))
        or (None if option.conditional else option.default)
        for option in OPTIONS
    }

    def defaulted(variable: str) -> str:
        value = raw[variable]
        assert value is not None  # OPTIONS gives this variable a default
        return value

    statefulset, ordinal = fields.pod_name(raw["HOSTNAME"])
    replicas = fields.count("REPLICAS", raw["REPLICAS"])
    controller_replicas = fields.count("CONTROLLER_REPLICAS", raw["CONTROLLER_REPLICAS"])
    controller_statefulset = fields.optional_label(
        "CONTROLLER_STATEFULSET", raw["CONTROLLER_STATEFULSET"], DNS1123_LABEL, "kafka-controller"
    )
    quorum = fields.choice("QUORUM", defaulted("QUORUM"), ("static", "dynamic"))
    broker_id_offset = layout.broker_id_offset(raw, controller_statefulset)
    if controller_statefulset is None:
        layout.check_quorum(ordinal, replicas, controller_replicas)
    else:
        layout.check_dedicated(
            statefulset, ordinal, controller_statefulset, controller_replicas, quorum, broker_id_offset
        )
    voter_count = controller_replicas if controller_replicas is not None else replicas
    assert voter_count is not None  # layout's checks require one of them
    node_id = ordinal + broker_id_offset if controller_statefulset not in (None, statefulset) else ordinal

    broker_port = fields.port("BROKER_PORT", defaulted("BROKER_PORT"))
    controller_port = fields.port("CONTROLLER_PORT", defaulted("CONTROLLER_PORT"))
    if broker_port == controller_port:
        raise InvalidInput(
            f"{name('BROKER_PORT')} and {name('CONTROLLER_PORT')} are both {broker_port}; "
            "the two listeners need different ports, e.g. 9092 and 9093"
        )
    storage = _storage(raw, node_id)
    kafka_home = defaulted("KAFKA_HOME")
    fields.path("KAFKA_HOME", kafka_home)

    service = fields.label("SERVICE", raw["SERVICE"], DNS1035_LABEL, "kafka-svc")
    namespace = fields.label("NAMESPACE", raw["NAMESPACE"], DNS1123_LABEL, "kafka-kraft")
    cluster_domain = fields.domain(defaulted("CLUSTER_DOMAIN"))
    controller_service = fields.optional_label(
        "CONTROLLER_SERVICE", raw["CONTROLLER_SERVICE"], DNS1035_LABEL, "kafka-controller-svc"
    )
    highest = max(ordinal, (controller_replicas or replicas or 1) - 1)
    for host in (
        f"{statefulset}-{highest}.{service}",
        f"{controller_statefulset}-{highest}.{controller_service}",
    ):
        longest = f"{host}.{namespace}.svc.{cluster_domain}"
        if len(longest) > MAX_DNS_NAME:
            raise InvalidInput(
                f"the pod DNS name {longest} is {len(longest)} characters, more than the {MAX_DNS_NAME} a "
                f"DNS name may have; shorten the StatefulSet name in {name('HOSTNAME')}, {name('SERVICE')}, "
                f"{name('NAMESPACE')} or {name('CLUSTER_DOMAIN')}"
            )

    security = parse_security(raw, broker_port, controller_port)
    external = parse_external(raw, ordinal, (broker_port, controller_port))
    if external is not None and controller_statefulset == statefulset:
        raise InvalidInput(
            f"{name('EXTERNAL_HOST')} is set on a pod of the controller StatefulSet "
            f"{controller_statefulset}, which has no broker listener; set EXTERNAL_* on the brokers only"
        )

    # parsed in this order so that, of several problems, the same one is reported as always
    cluster_id_timeout = fields.timeout(defaulted("CLUSTER_ID_TIMEOUT"))
    template = fields.path("KRAFT_TEMPLATE", raw["KRAFT_TEMPLATE"])
    config = fields.path("KRAFT_CONFIG", raw["KRAFT_CONFIG"])
    overrides = fields.parse_overrides(environment)
    cds = fields.cds_mode(raw["KRAFT_CDS"])
    kafka_version = _kafka_version(raw["KAFKA_VERSION"])
    memory = Memory(parse_memory_limit(raw["MEMORY_LIMIT"]), parse_percent(raw["HEAP_PERCENT"]))
    metrics = _metrics(raw, [broker_port, controller_port, *((external.port,) if external else ())])
    strict = fields.choice("STRICT", defaulted("STRICT").lower(), ("true", "false")) == "true"
    untested = fields.choice("KAFKA_UNTESTED", defaulted("KAFKA_UNTESTED").lower(), ("allow", "refuse"))
    rack = _rack(values.get("RACK"), raw["RACK_FILE"])
    return Settings(
        pod=Pod(statefulset, ordinal, replicas, controller_replicas, service, namespace, cluster_domain),
        storage=Storage(storage[0], storage[1], storage[2], cluster_id_timeout),
        files=KafkaFiles(kafka_home, template, config, cds, kafka_version),
        security=security,
        external=external,
        quorum=Quorum(
            quorum,
            controller_statefulset,
            controller_service or (service if controller_statefulset else None),
            broker_id_offset,
        ),
        overrides=overrides,
        memory=memory,
        metrics=metrics,
        rack=rack,
        node_id=node_id,
        voter_count=voter_count,
        strict=strict,
        allow_untested_kafka=untested == "allow",
    )


def _kafka_version(value: Optional[str]) -> Optional[KafkaVersion]:
    """KAFKA_VERSION: an x.y.z release; whether Kafka supports it is asked with the installation."""
    if value is None:
        return None
    try:
        return KafkaVersion.parse(value.strip())
    except VersionError as error:
        raise InvalidInput(f"{name('KAFKA_VERSION')}: {error}") from None


def _storage(raw: Mapping[str, Optional[str]], node_id: int) -> tuple[Optional[str], str, Optional[str]]:
    """SHARE_DIR, DATA_DIR (defaulting to SHARE_DIR/<node id>) and CLUSTER_ID."""
    given_id = fields.given_cluster_id(raw["CLUSTER_ID"])
    share_dir = fields.path("SHARE_DIR", raw["SHARE_DIR"])
    data_dir = fields.path("DATA_DIR", raw["DATA_DIR"])
    if share_dir is None and (data_dir is None or given_id is None):
        raise InvalidInput(
            f"{name('SHARE_DIR')} is required unless both CLUSTER_ID and DATA_DIR are set, "
            "e.g. SHARE_DIR=/mnt/kafka"
        )
    if data_dir is None:
        assert share_dir is not None
        data_dir = posixpath.join(share_dir, str(node_id))
    if "," in data_dir:
        raise InvalidInput(
            f"{name('DATA_DIR')} names one directory, got {fields.show(data_dir)}; "
            "for several log directories set KAFKA_CFG_LOG_DIRS"
        )
    return share_dir, data_dir, given_id


def _metrics(raw: Mapping[str, Optional[str]], taken: list[int]) -> Metrics:
    """METRICS and METRICS_PORT; the port must be none of the listeners' (checked only when on)."""
    enabled = parse_mode(raw["METRICS"])
    port = parse_port(raw["METRICS_PORT"])
    if enabled and port in taken:
        raise InvalidInput(
            f"{name('METRICS_PORT')}={port} is already a listener's port; the metrics endpoint needs "
            "its own, e.g. METRICS_PORT=9404"
        )
    return Metrics(enabled, port)


def _rack(value: Optional[str], rack_file: Optional[str]) -> Rack:
    """RACK (checked as given: white space around it is refused, not trimmed) or RACK_FILE."""
    rack = given_rack(value)
    if rack is not None and rack_file is not None:
        raise InvalidInput(
            f"{name('RACK')} and {name('RACK_FILE')} are both set; use one, e.g. RACK=eu-west-1a "
            "or RACK_FILE=/etc/kafka/rack/zone"
        )
    return Rack(rack, fields.path("RACK_FILE", rack_file))
