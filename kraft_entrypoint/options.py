"""The one table of inputs: variable, flag, --help section, help text and default.

click's options, --help's sections, every message naming an input (:func:`name`) and the
defaults parsing applies all read :data:`OPTIONS`. Pure: no I/O, no environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

POD, STORAGE, FILES, SECURITY, EXTERNAL, QUORUM, OPERATIONS = (
    "Pod and cluster",
    "Cluster id and storage",
    "Files",
    "Listeners and security",
    "External access",
    "Quorum",
    "Memory, metrics and probes",
)
CHECKS = "Typos and untested versions"
GROUPS = (POD, STORAGE, FILES, SECURITY, EXTERNAL, QUORUM, OPERATIONS, CHECKS)
#: The commands an input belongs to: a start (the ENTRYPOINT) or ``kraft-entrypoint probe``.
START, PROBE = "start", "probe"


@dataclass(frozen=True)
class Option:
    """One input: its environment variable, its flag, its --help heading, and what --help says of it.

    ``default`` is the value of an unset or empty input, written here and nowhere else; a
    ``conditional`` default applies only where the input does (setting the input where it does
    not apply is an error, so parsing asks :func:`default` for it at that point).
    ``derived_default`` only describes, for --help, a default computed from other inputs.
    ``flag_value``: the flag takes no value and means this one (``--strict`` is STRICT=true).
    """

    variable: str
    flag: str
    group: str
    help: str
    default: Optional[str] = None
    derived_default: Optional[str] = None
    conditional: bool = False
    command: str = START
    flag_value: Optional[str] = None


OPTIONS = (
    Option("HOSTNAME", "--hostname", POD, "Pod name <statefulset>-<ordinal>; an FQDN's first label counts."),
    Option(
        "REPLICAS",
        "--replicas",
        POD,
        "Pods in the StatefulSet; ordinals 0..REPLICAS-1 are the voters unless CONTROLLER_REPLICAS is set.",
    ),
    Option(
        "CONTROLLER_REPLICAS",
        "--controller-replicas",
        POD,
        "Ordinals 0..N-1 are the controller quorum; higher ordinals run as brokers only.",
    ),
    Option("SERVICE", "--service", POD, "Headless Service name (the StatefulSet's serviceName)."),
    Option("NAMESPACE", "--namespace", POD, "Kubernetes namespace of the pod."),
    Option("CLUSTER_DOMAIN", "--cluster-domain", POD, "Cluster DNS domain.", "cluster.local"),
    Option(
        "SHARE_DIR",
        "--share-dir",
        STORAGE,
        "Shared directory holding cluster_id; log.dirs defaults to SHARE_DIR/<node id>.",
    ),
    Option(
        "DATA_DIR",
        "--data-dir",
        STORAGE,
        "This node's log.dirs (for per-pod volumes).",
        derived_default="SHARE_DIR/<node id>",
    ),
    Option(
        "CLUSTER_ID",
        "--cluster-id",
        STORAGE,
        "Cluster id (22 characters of URL-safe base64); wins over SHARE_DIR/cluster_id.",
    ),
    Option(
        "CLUSTER_ID_TIMEOUT",
        "--cluster-id-timeout",
        STORAGE,
        "Seconds to wait for a readable shared cluster id.",
        "300",
    ),
    Option("KAFKA_HOME", "--kafka-home", FILES, "Kafka installation; tools in KAFKA_HOME/bin.", "/opt/kafka"),
    Option(
        "KRAFT_TEMPLATE",
        "--template",
        FILES,
        "Template server.properties, read and never written.",
        derived_default="KAFKA_HOME/config/kraft/server.properties (config/server.properties from Kafka 4)",
    ),
    Option(
        "KRAFT_CONFIG",
        "--config",
        FILES,
        "Where the generated server.properties is written.",
        derived_default="server.generated.properties beside the template",
    ),
    Option(
        "KAFKA_VERSION",
        "--kafka-version",
        FILES,
        "Kafka version x.y.z where KAFKA_HOME has no libs/kafka_<scala>-<version>.jar (a --dry-run with "
        "only --template); with such a jar it must name the same version.",
        derived_default="read from KAFKA_HOME/libs",
    ),
    Option(
        "KRAFT_CDS",
        "--cds",
        FILES,
        "auto: Kafka's JVMs use the image's class-data sharing archives (KAFKA_HOME/cds) when they match "
        "this JDK; off: never.",
        "auto",
    ),
    Option("BROKER_PORT", "--broker-port", SECURITY, "Broker listener port.", "9092"),
    Option("CONTROLLER_PORT", "--controller-port", SECURITY, "CONTROLLER listener port.", "9093"),
    Option(
        "TLS_DIR",
        "--tls-dir",
        SECURITY,
        "A kubernetes.io/tls Secret (tls.crt, tls.key as PKCS#8, "
        "ca.crt): every listener TLS, the controller listener mutual TLS.",
    ),
    Option(
        "TLS_CLIENT_AUTH",
        "--tls-client-auth",
        SECURITY,
        "Client certificates on the client listeners: required, requested or none.",
        derived_default="required with TLS alone, none with TLS and SASL",
    ),
    Option(
        "SASL_USERS_DIR",
        "--sasl-users-dir",
        SECURITY,
        "One file per user (name = user, content = password): client listeners require SASL "
        "(SASL_MECHANISM).",
    ),
    Option(
        "SASL_INTER_BROKER_USER",
        "--sasl-inter-broker-user",
        SECURITY,
        "The user brokers (and, without TLS, controllers) authenticate as; a file in SASL_USERS_DIR.",
        "kafka",
        conditional=True,
    ),
    Option(
        "SASL_MECHANISM",
        "--sasl-mechanism",
        SECURITY,
        "PLAIN, SCRAM-SHA-512 or SCRAM-SHA-256 on the client listeners and between brokers; SCRAM "
        "(Kafka 3.5+) writes every user into the new cluster's metadata at format.",
        "PLAIN",
        conditional=True,
    ),
    Option(
        "AUTHORIZATION",
        "--authorization",
        SECURITY,
        "acl: StandardAuthorizer, nothing allowed without an ACL; off: no authorizer.",
        "off",
    ),
    Option("SUPER_USERS", "--super-users", SECURITY, "Extra super users, comma-separated user names."),
    Option(
        "EXTERNAL_HOST",
        "--external-host",
        EXTERNAL,
        "Host outside clients use for this pod; {ordinal} "
        "is replaced by the pod's ordinal. Set: an EXTERNAL listener is added.",
    ),
    Option(
        "EXTERNAL_PORT",
        "--external-port",
        EXTERNAL,
        "Container port of the EXTERNAL listener.",
        "9094",
        conditional=True,
    ),
    Option(
        "EXTERNAL_ADVERTISED_PORT",
        "--external-advertised-port",
        EXTERNAL,
        "Port external clients dial.",
        derived_default="EXTERNAL_PORT",
    ),
    Option(
        "EXTERNAL_PORT_BASE",
        "--external-port-base",
        EXTERNAL,
        "Instead: pod N advertises BASE+N (a NodePort Service per pod).",
    ),
    Option(
        "QUORUM",
        "--quorum",
        QUORUM,
        "static: controller.quorum.voters; dynamic (Kafka 3.9+, new "
        "clusters): controller.quorum.bootstrap.servers.",
        "static",
    ),
    Option(
        "CONTROLLER_STATEFULSET",
        "--controller-statefulset",
        QUORUM,
        "The StatefulSet of dedicated controllers; pods of other StatefulSets are brokers.",
    ),
    Option(
        "CONTROLLER_SERVICE",
        "--controller-service",
        QUORUM,
        "Headless Service of the controller StatefulSet.",
        derived_default="SERVICE",
    ),
    Option(
        "BROKER_ID_OFFSET",
        "--broker-id-offset",
        QUORUM,
        "With dedicated controllers, a broker's node.id is this plus its ordinal.",
        "100",
        conditional=True,
    ),
    Option(
        "MEMORY_LIMIT",
        "--memory-limit",
        OPERATIONS,
        "The container's memory limit: bytes or a quantity such as 2Gi (the manifests set it from "
        "resourceFieldRef limits.memory). The server's heap is HEAP_PERCENT of it, unless "
        "KAFKA_HEAP_OPTS is set.",
        derived_default="the cgroup's limit",
    ),
    Option(
        "HEAP_PERCENT",
        "--heap-percent",
        OPERATIONS,
        "Server heap (-Xms = -Xmx) as a percentage of the memory limit, rounded down to MiB, 256 MiB "
        "to 31 GiB; at least 256 MiB of the limit must be left.",
        "50",
    ),
    Option(
        "METRICS",
        "--metrics",
        OPERATIONS,
        "prometheus: the server JVM serves Prometheus metrics on METRICS_PORT (the JMX exporter agent "
        "and rules of the installation); off: no agent, no port.",
        "off",
    ),
    Option(
        "METRICS_PORT",
        "--metrics-port",
        OPERATIONS,
        "HTTP port of /metrics with METRICS=prometheus.",
        "9404",
    ),
    Option(
        "RACK",
        "--rack",
        OPERATIONS,
        "This broker's rack, e.g. the node's zone: broker.rack, and consumers with client.rack may fetch "
        "from the nearest replica (RackAwareReplicaSelector).",
    ),
    Option(
        "RACK_FILE",
        "--rack-file",
        OPERATIONS,
        "Instead of RACK: a file holding the rack (a downward-API volume or an init container writes it).",
    ),
    Option(
        "PROBE_TIMEOUT",
        "--timeout",
        OPERATIONS,
        "kraft-entrypoint probe: answer within this many seconds (below the kubelet's timeoutSeconds).",
        "5",
        command=PROBE,
    ),
    Option(
        "STRICT",
        "--strict",
        CHECKS,
        "Exit 2 instead of warning on an input that is not understood: a variable a typo away from "
        "one of these, or a KAFKA_CFG_* the installed Kafka does not define.",
        "false",
        flag_value="true",
    ),
    Option(
        "KAFKA_UNTESTED",
        "--allow-untested-kafka",
        CHECKS,
        "Start a Kafka of a major version above 4, which kraft-entrypoint was never tested with "
        "(without: exit 2).",
        "refuse",
        flag_value="allow",
    ),
)
_BY_VARIABLE = {option.variable: option for option in OPTIONS}
OVERRIDE_PREFIX = "KAFKA_CFG_"


def name(variable: str) -> str:
    """How messages name an input: the variable and, where there is one, its flag."""
    option = _BY_VARIABLE.get(variable)
    return f"{variable} ({option.flag})" if option else variable


def default(variable: str) -> str:
    """The default of an input that has one (:class:`KeyError` / :class:`ValueError` otherwise)."""
    value = _BY_VARIABLE[variable].default
    if value is None:
        raise ValueError(f"{variable} has no default")
    return value
