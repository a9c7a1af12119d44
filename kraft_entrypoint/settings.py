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
MAX_DNS_NAME = 253
DEFAULT_BROKER_ID_OFFSET = 100
_PORT_EXAMPLES = {
    "BROKER_PORT": "9092",
    "CONTROLLER_PORT": "9093",
    "EXTERNAL_PORT": "9094",
    "EXTERNAL_ADVERTISED_PORT": "31094",
    "EXTERNAL_PORT_BASE": "31090",
}

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_POD_NAME = re.compile(r"(?P<statefulset>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-(?P<ordinal>0|[1-9][0-9]*)\Z")
_OVERRIDE_NAME = re.compile(r"[A-Za-z0-9_]+\Z")
_USER_NAME = re.compile(r"[A-Za-z0-9][-._A-Za-z0-9]{0,252}\Z")
# A DNS name (labels of letters, digits, '-'), an IPv4 address, or an IPv6 address.
_HOST = re.compile(
    r"([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*"
    r"\.?\Z|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\Z"
)


POD, STORAGE, FILES, SECURITY, EXTERNAL, QUORUM = (
    "Pod and cluster",
    "Cluster id and storage",
    "Files",
    "Listeners and security",
    "External access",
    "Quorum",
)
GROUPS = (POD, STORAGE, FILES, SECURITY, EXTERNAL, QUORUM)


@dataclass(frozen=True)
class Option:
    """One input: its environment variable, its flag, its --help heading, and what --help says of it.

    ``default`` is applied when the input is unset or empty; ``derived_default`` only describes,
    for --help, a default that parse_settings computes from other inputs.
    """

    variable: str
    flag: str
    group: str
    help: str
    default: Optional[str] = None
    derived_default: Optional[str] = None


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
        "One file per user (name = user, content = password): client listeners require SASL/PLAIN.",
    ),
    Option(
        "SASL_INTER_BROKER_USER",
        "--sasl-inter-broker-user",
        SECURITY,
        "The user brokers (and, without TLS, controllers) authenticate as; a file in SASL_USERS_DIR.",
        derived_default="kafka",
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
        derived_default="9094",
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
        derived_default="100",
    ),
)
FLAGS = {option.variable: option.flag for option in OPTIONS}
DEFAULTS = {option.variable: option.default for option in OPTIONS}
_DEDICATED_ONLY = ("CONTROLLER_SERVICE", "BROKER_ID_OFFSET")
_PORT_PLACEHOLDER = "{ordinal}"


@dataclass(frozen=True)
class Override:
    """A KAFKA_CFG_* variable and the broker property it sets."""

    variable: str
    key: str
    value: str


@dataclass(frozen=True)
class External:
    """The EXTERNAL listener: container port, and what each pod advertises to outside clients."""

    host: str  # may hold {ordinal}
    port: int
    advertised_port: Optional[int]
    port_base: Optional[int]

    def advertised(self, ordinal: int) -> tuple[str, int]:
        port = self.port_base + ordinal if self.port_base is not None else self.advertised_port or self.port
        return self.host.replace(_PORT_PLACEHOLDER, str(ordinal)), port


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
    template: Optional[str]  # None: the version's own template in KAFKA_HOME
    config: Optional[str]  # None: server.generated.properties beside the template
    overrides: tuple[Override, ...]
    tls_dir: Optional[str] = None
    tls_client_auth: Optional[str] = None  # required / requested / none; None without TLS
    sasl_users_dir: Optional[str] = None
    sasl_inter_broker_user: str = "kafka"
    authorization: str = "off"
    super_users: tuple[str, ...] = ()
    external: Optional[External] = None
    quorum: str = "static"
    controller_statefulset: Optional[str] = None
    controller_service: Optional[str] = None
    broker_id_offset: int = 100
    cds: str = "auto"

    @property
    def voter_count(self) -> int:
        count = self.controller_replicas if self.controller_replicas is not None else self.replicas
        assert count is not None  # parse_settings requires one of them
        return count

    @property
    def dedicated(self) -> bool:
        """Whether controllers run in their own StatefulSet."""
        return self.controller_statefulset is not None

    @property
    def is_controller_pod(self) -> bool:
        """A pod of the dedicated controller StatefulSet."""
        return self.controller_statefulset == self.statefulset

    @property
    def node_id(self) -> int:
        return (
            self.ordinal + self.broker_id_offset
            if self.dedicated and not self.is_controller_pod
            else self.ordinal
        )


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
    controller_statefulset = _optional_label(
        "CONTROLLER_STATEFULSET", raw["CONTROLLER_STATEFULSET"], _DNS1123_LABEL, "kafka-controller"
    )
    quorum = _choice("QUORUM", defaulted("QUORUM"), ("static", "dynamic"))
    broker_id_offset = _dedicated_inputs(raw, controller_statefulset)
    if controller_statefulset is None:
        _check_quorum(ordinal, replicas, controller_replicas, quorum)
    else:
        _check_dedicated(
            statefulset, ordinal, controller_statefulset, controller_replicas, quorum, broker_id_offset
        )

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
    node_id = ordinal + broker_id_offset if controller_statefulset not in (None, statefulset) else ordinal
    if data_dir is None:
        assert share_dir is not None
        data_dir = posixpath.join(share_dir, str(node_id))
    if "," in data_dir:
        raise InvalidInput(
            f"{name('DATA_DIR')} names one directory, got {_show(data_dir)}; "
            "for several log directories set KAFKA_CFG_LOG_DIRS"
        )

    kafka_home = defaulted("KAFKA_HOME")
    _path("KAFKA_HOME", kafka_home)

    service = _label("SERVICE", raw["SERVICE"], _DNS1035_LABEL, "kafka-svc")
    namespace = _label("NAMESPACE", raw["NAMESPACE"], _DNS1123_LABEL, "kafka-kraft")
    cluster_domain = _domain(defaulted("CLUSTER_DOMAIN"))
    controller_service = _optional_label(
        "CONTROLLER_SERVICE", raw["CONTROLLER_SERVICE"], _DNS1035_LABEL, "kafka-controller-svc"
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

    security = _security(raw)
    external = _external(raw, ordinal, (broker_port, controller_port))
    if external is not None and controller_statefulset == statefulset:
        raise InvalidInput(
            f"{name('EXTERNAL_HOST')} is set on a pod of the controller StatefulSet "
            f"{controller_statefulset}, which has no broker listener; set EXTERNAL_* on the brokers only"
        )

    return Settings(
        statefulset=statefulset,
        ordinal=ordinal,
        replicas=replicas,
        controller_replicas=controller_replicas,
        service=service,
        namespace=namespace,
        cluster_domain=cluster_domain,
        share_dir=share_dir,
        data_dir=data_dir,
        cluster_id=given_id,
        cluster_id_timeout=_timeout(defaulted("CLUSTER_ID_TIMEOUT")),
        broker_port=broker_port,
        controller_port=controller_port,
        kafka_home=kafka_home,
        template=_path("KRAFT_TEMPLATE", raw["KRAFT_TEMPLATE"]),
        config=_path("KRAFT_CONFIG", raw["KRAFT_CONFIG"]),
        overrides=parse_overrides(environment),
        external=external,
        quorum=quorum,
        controller_statefulset=controller_statefulset,
        controller_service=controller_service or (service if controller_statefulset else None),
        broker_id_offset=broker_id_offset,
        tls_dir=security.tls_dir,
        tls_client_auth=security.tls_client_auth,
        sasl_users_dir=security.sasl_users_dir,
        sasl_inter_broker_user=security.sasl_inter_broker_user,
        authorization=security.authorization,
        super_users=security.super_users,
        cds=_cds_mode(raw["KRAFT_CDS"]),
    )


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
        raise InvalidInput(
            f"{name(variable)} must be a whole number of at least 1, e.g. {variable}=3; got {_show(value)}"
        )
    return int(value)


def _check_quorum(
    ordinal: int, replicas: Optional[int], controller_replicas: Optional[int], quorum: str
) -> None:
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
    _check_voter_count(voters_variable, voters)


def _check_voter_count(variable: str, voters: int) -> None:
    if voters > MAX_VOTERS:
        raise InvalidInput(
            f"{name(variable)}={voters} would make a controller quorum of {voters} voters "
            f"(at most {MAX_VOTERS}); keep the quorum small with CONTROLLER_REPLICAS=3"
        )


def _dedicated_inputs(raw: Mapping[str, Optional[str]], controller_statefulset: Optional[str]) -> int:
    """BROKER_ID_OFFSET (and CONTROLLER_SERVICE) belong to the dedicated-controller layout only."""
    if controller_statefulset is None:
        for variable in _DEDICATED_ONLY:
            if raw[variable] is not None:
                raise InvalidInput(
                    f"{name(variable)} only applies with dedicated controllers; set CONTROLLER_STATEFULSET "
                    f"too (e.g. CONTROLLER_STATEFULSET=kafka-controller) or unset {variable}"
                )
        return DEFAULT_BROKER_ID_OFFSET
    value = raw["BROKER_ID_OFFSET"]
    if value is None:
        return DEFAULT_BROKER_ID_OFFSET
    if not re.fullmatch(r"[0-9]{1,10}", value) or not 1 <= int(value) <= MAX_NODE_ID // 2:
        raise InvalidInput(
            f"{name('BROKER_ID_OFFSET')} must be a whole number from 1 to {MAX_NODE_ID // 2}, "
            f"e.g. BROKER_ID_OFFSET=100; got {_show(value)}"
        )
    return int(value)


def _check_dedicated(
    statefulset: str,
    ordinal: int,
    controller_statefulset: str,
    controller_replicas: Optional[int],
    quorum: str,
    broker_id_offset: int,
) -> None:
    if controller_replicas is None:
        raise InvalidInput(
            f"{name('CONTROLLER_REPLICAS')} is required with {name('CONTROLLER_STATEFULSET')}: the initial "
            "controllers are its ordinals 0..CONTROLLER_REPLICAS-1, e.g. CONTROLLER_REPLICAS=3"
        )
    _check_voter_count("CONTROLLER_REPLICAS", controller_replicas)
    if controller_replicas >= broker_id_offset:
        raise InvalidInput(
            f"{name('CONTROLLER_REPLICAS')}={controller_replicas} reaches {name('BROKER_ID_OFFSET')}="
            f"{broker_id_offset}: controller and broker node ids would collide; raise BROKER_ID_OFFSET, "
            "e.g. BROKER_ID_OFFSET=100"
        )
    if statefulset == controller_statefulset:
        if quorum == "static" and ordinal >= controller_replicas:
            raise InvalidInput(
                f"controller pod ordinal {ordinal} is outside {name('CONTROLLER_REPLICAS')}="
                f"{controller_replicas}; a static quorum cannot grow: keep the controller StatefulSet at "
                f"{controller_replicas} replicas, or use QUORUM=dynamic on Kafka 3.9+"
            )
        if ordinal >= broker_id_offset:
            raise InvalidInput(
                f"controller pod ordinal {ordinal} reaches {name('BROKER_ID_OFFSET')}={broker_id_offset}: "
                "its node id would collide with a broker's; raise BROKER_ID_OFFSET before scaling further"
            )
    elif ordinal + broker_id_offset > MAX_NODE_ID:
        raise InvalidInput(
            f"{name('BROKER_ID_OFFSET')}={broker_id_offset} plus the ordinal {ordinal} is more "
            f"than Kafka's largest node id {MAX_NODE_ID}"
        )


@dataclass(frozen=True)
class _Security:
    tls_dir: Optional[str]
    tls_client_auth: Optional[str]
    sasl_users_dir: Optional[str]
    sasl_inter_broker_user: str
    authorization: str
    super_users: tuple[str, ...]


def _security(raw: Mapping[str, Optional[str]]) -> _Security:
    tls_dir = _path("TLS_DIR", raw["TLS_DIR"])
    sasl_users_dir = _path("SASL_USERS_DIR", raw["SASL_USERS_DIR"])
    client_auth = raw["TLS_CLIENT_AUTH"]
    if client_auth is not None:
        client_auth = _choice("TLS_CLIENT_AUTH", client_auth, ("required", "requested", "none"))
        if tls_dir is None:
            raise InvalidInput(
                f"{name('TLS_CLIENT_AUTH')} needs {name('TLS_DIR')}: client certificates "
                "only exist with TLS, e.g. TLS_DIR=/etc/kafka/tls"
            )
    elif tls_dir is not None:
        client_auth = "none" if sasl_users_dir else "required"
    inter_broker_user = raw["SASL_INTER_BROKER_USER"]
    if inter_broker_user is not None:
        if sasl_users_dir is None:
            raise InvalidInput(
                f"{name('SASL_INTER_BROKER_USER')} needs {name('SASL_USERS_DIR')}, the "
                "directory with one file per user, e.g. SASL_USERS_DIR=/etc/kafka/users"
            )
        _user_name("SASL_INTER_BROKER_USER", inter_broker_user)
    authorization = _choice("AUTHORIZATION", raw["AUTHORIZATION"] or "off", ("acl", "off"))
    if authorization == "acl" and sasl_users_dir is None and client_auth in (None, "none"):
        raise InvalidInput(
            f"{name('AUTHORIZATION')}=acl with no way for clients to authenticate: ACLs on anonymous "
            "clients protect nothing; set SASL_USERS_DIR, or TLS_DIR with TLS_CLIENT_AUTH=required"
        )
    super_users: tuple[str, ...] = ()
    if raw["SUPER_USERS"] is not None:
        if authorization != "acl":
            raise InvalidInput(
                f"{name('SUPER_USERS')} only matters with AUTHORIZATION=acl; set both, "
                "e.g. AUTHORIZATION=acl SUPER_USERS=admin"
            )
        super_users = tuple(_user_name("SUPER_USERS", user.strip()) for user in raw["SUPER_USERS"].split(","))
    return _Security(
        tls_dir, client_auth, sasl_users_dir, inter_broker_user or "kafka", authorization, super_users
    )


def _user_name(variable: str, value: str) -> str:
    if not _USER_NAME.match(value):
        raise InvalidInput(
            f"{name(variable)} must name users with letters, digits, '.', '_' or '-' "
            f"(as Secret keys are), e.g. {variable}=admin; got {_show(value)}"
        )
    return value


def _external(raw: Mapping[str, Optional[str]], ordinal: int, taken: tuple[int, int]) -> Optional[External]:
    host = raw["EXTERNAL_HOST"]
    if host is None:
        for variable in ("EXTERNAL_PORT", "EXTERNAL_ADVERTISED_PORT", "EXTERNAL_PORT_BASE"):
            if raw[variable] is not None:
                raise InvalidInput(
                    f"{name(variable)} is set but {name('EXTERNAL_HOST')} is not; set the host "
                    "outside clients use, e.g. EXTERNAL_HOST=kafka-{ordinal}.example.com"
                )
        return None
    shown = host.replace(_PORT_PLACEHOLDER, str(ordinal))
    if not _HOST.match(shown) or len(shown) > MAX_DNS_NAME:
        raise InvalidInput(
            f"{name('EXTERNAL_HOST')} must be a DNS name or IP address, optionally with {{ordinal}}, e.g. "
            f"EXTERNAL_HOST=kafka-{{ordinal}}.example.com or the node IP from status.hostIP; "
            f"got {_show(host)}"
        )
    port = _port("EXTERNAL_PORT", raw["EXTERNAL_PORT"] or "9094")
    if port in taken:
        raise InvalidInput(
            f"{name('EXTERNAL_PORT')}={port} is already the broker or controller port; every "
            "listener needs its own port, e.g. EXTERNAL_PORT=9094"
        )
    advertised = raw["EXTERNAL_ADVERTISED_PORT"]
    base = raw["EXTERNAL_PORT_BASE"]
    if advertised is not None and base is not None:
        raise InvalidInput(
            f"{name('EXTERNAL_ADVERTISED_PORT')} and {name('EXTERNAL_PORT_BASE')} are both set; "
            "use one: a fixed port, or BASE+ordinal with one NodePort Service per pod"
        )
    port_base = None if base is None else _port("EXTERNAL_PORT_BASE", base)
    if port_base is not None and port_base + ordinal > 65535:
        raise InvalidInput(
            f"{name('EXTERNAL_PORT_BASE')}={port_base} plus the ordinal {ordinal} is not a port "
            "(at most 65535); lower it, e.g. EXTERNAL_PORT_BASE=30000"
        )
    return External(
        host, port, None if advertised is None else _port("EXTERNAL_ADVERTISED_PORT", advertised), port_base
    )


def _choice(variable: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidInput(
            f"{name(variable)} must be one of {', '.join(choices)}, e.g. {variable}={choices[0]}; "
            f"got {_show(value)}"
        )
    return value


def _optional_label(
    variable: str, value: Optional[str], pattern: re.Pattern[str], example: str
) -> Optional[str]:
    return None if value is None else _label(variable, value, pattern, example)


def _port(variable: str, value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,5}", value) or not 1 <= int(value) <= 65535:
        placeholder = (
            f" ({_PORT_PLACEHOLDER} only works in EXTERNAL_HOST)" if _PORT_PLACEHOLDER in value else ""
        )
        raise InvalidInput(
            f"{name(variable)} must be a port number from 1 to 65535{placeholder}, e.g. "
            f"{variable}={_PORT_EXAMPLES[variable]}; got {_show(value)}"
        )
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
        raise InvalidInput(
            f"{name(variable)} must be an absolute path, e.g. /var/lib/kafka; got {_show(value)}"
        )
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
        raise InvalidInput(
            f"{name('CLUSTER_ID_TIMEOUT')} must be a number of seconds from 0 to 86400, "
            f"e.g. CLUSTER_ID_TIMEOUT=300; got {_show(value)}"
        )
    return seconds
