"""Settings + template -> the final properties and what the effects must do with them. Pure."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from kraft_entrypoint import rack as racks
from kraft_entrypoint import security
from kraft_entrypoint.cluster_id import directory_id
from kraft_entrypoint.commands import (
    MASK,
    InitialController,
    ScramUsers,
    add_controller_command,
    add_scram_user_command,
    format_argv,
)
from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.fields import Override
from kraft_entrypoint.kafka_versions import Capabilities, no_scram
from kraft_entrypoint.options import name
from kraft_entrypoint.security import Credentials
from kraft_entrypoint.settings import Settings
from kraft_entrypoint.topology import Topology, derive_topology, pod_fqdn

SECRET_MARKERS = ("password", "secret", "jaas")
#: Keys of Kafka 3.3.2's PASSWORD-type broker configs that the markers above do not catch (a
#: listener prefix such as listener.name.ssl. may stand before them). The full list, read from
#: KafkaConfig.configDef, is pinned in tests/fixtures/kafka-3.3.2-password-keys.txt.
SECRET_SUFFIXES = (".key", "ssl.keystore.certificate.chain", "ssl.truststore.certificates")
KEYSTORE_FILE = "tls-keystore.pem"
NO_CREDENTIALS = Credentials()
_VOTER = re.compile(r"(0|[1-9][0-9]{0,9})@[^@,]+:[0-9]{1,5}\Z")


@dataclass(frozen=True)
class Files:
    """Where this start reads and writes, resolved for the installed Kafka version."""

    template: str
    config: str
    keystore: str  # the TLS key+chain PEM derived from TLS_DIR, beside the config


def resolve_files(settings: Settings, caps: Capabilities) -> Files:
    default_template = posixpath.join(settings.files.kafka_home, caps.template_path)
    config = settings.files.config or posixpath.join(
        posixpath.dirname(default_template), "server.generated.properties"
    )
    return Files(
        settings.files.template or default_template,
        config,
        posixpath.join(posixpath.dirname(config), KEYSTORE_FILE),
    )


@dataclass(frozen=True)
class Plan:
    settings: Settings
    files: Files
    caps: Capabilities
    topology: Topology
    properties: tuple[tuple[str, str], ...]
    log_dirs: tuple[str, ...]
    log_dirs_source: str
    voter_ids: frozenset[int]  # the static voters; empty for a dynamic quorum
    #: The keys the template and the derived values set, before the KAFKA_CFG_* overrides.
    written_keys: frozenset[str] = frozenset()
    scram: Optional[ScramUsers] = None  # SASL_MECHANISM=SCRAM-*: the users format writes

    @property
    def node_id(self) -> int:
        return self.topology.node_id

    @property
    def holds_secrets(self) -> bool:
        """Whether the generated file holds a secret value (it is then written with mode 0600)."""
        return any(is_secret(key) for key, _ in self.properties)

    @property
    def shown_properties(self) -> tuple[tuple[str, str], ...]:
        """The properties as --dry-run prints them: secret values masked."""
        return tuple((key, shown_value(key, value)) for key, value in self.properties)

    @property
    def server_argv(self) -> tuple[str, ...]:
        return (self.start_script, self.files.config)

    @property
    def start_script(self) -> str:
        return posixpath.join(self.settings.files.kafka_home, "bin", "kafka-server-start.sh")

    @property
    def dynamic(self) -> bool:
        return self.settings.quorum.dynamic

    @property
    def secrets(self) -> tuple[str, ...]:
        """The passwords the format's command line carries: masked in whatever it prints."""
        return tuple(password for _, password in self.scram.users) if self.scram else ()

    def format_argv(self, cluster_id: str, masked: bool = False) -> tuple[str, ...]:
        """kafka-storage.sh format for this node: its quorum's flags, the id as one word, and
        with SCRAM every user (``masked``: passwords as ******, the form logs show)."""
        initial = None
        if self.dynamic and self.topology.is_voter:
            initial = [
                InitialController(c.node_id, c.host, c.port, directory_id(cluster_id, c.node_id))
                for c in self.topology.initial_controllers
            ]
        return format_argv(
            self.settings.files.kafka_home,
            self.files.config,
            cluster_id,
            self.caps,
            initial,
            self.dynamic and not self.topology.is_voter,
            self.scram.masked() if masked and self.scram else self.scram,
        )

    def add_scram_user_hints(self, written: frozenset[str]) -> tuple[tuple[str, ...], ...]:
        """For formatted storage with SCRAM: the kafka-configs.sh command (password masked) of each
        user of SASL_USERS_DIR that the format did not write (``written``, from its record).
        A controller-only node has no broker listener to name: its brokers say it."""
        if self.scram is None or not self.topology.client_listeners:
            return ()
        settings = self.settings
        bootstrap = f"{pod_fqdn(settings, settings.pod.ordinal)}:{settings.security.broker_port}"
        return tuple(
            add_scram_user_command(settings.files.kafka_home, bootstrap, self.scram.mechanism, user)
            for user, _ in self.scram.users
            if user not in written
        )

    def add_controller_hint(self) -> Optional[tuple[str, ...]]:
        """The command that makes this later controller a voter, where Kafka cannot do it itself."""
        if not (self.dynamic and self.topology.joins_later) or self.caps.auto_join:
            return None
        first = self.topology.initial_controllers[0]
        return add_controller_command(
            self.settings.files.kafka_home, self.files.config, f"{first.host}:{first.port}"
        )


def make_plan(
    settings: Settings,
    files: Files,
    caps: Capabilities,
    template: Iterable[tuple[str, str]],
    credentials: Credentials = NO_CREDENTIALS,
    rack: Optional[str] = None,
) -> Plan:
    """Template keys in order, derived values over them, then KAFKA_CFG_* overrides over those.

    ``rack`` is RACK, or the content of RACK_FILE that the start read and checked."""
    if settings.quorum.dynamic and not caps.dynamic_quorum:
        raise InvalidInput(
            f"{name('QUORUM')}=dynamic needs Kafka 3.9 or newer (KIP-853); this KAFKA_HOME has "
            f"{caps.version}: use QUORUM=static, or an image with Kafka 3.9+"
        )
    scram = None
    if security.is_scram(settings.security.sasl_mechanism):
        if not caps.add_scram:
            raise InvalidInput(
                f"{name('SASL_MECHANISM')}={settings.security.sasl_mechanism}: {no_scram(caps.version)}; "
                "use SASL_MECHANISM=PLAIN, or an image with Kafka 3.5+ (e.g. 3.9.2)"
            )
        scram = ScramUsers(settings.security.sasl_mechanism, credentials.users)
    topology = derive_topology(settings)
    merged = dict(template)
    for key in topology.removed:
        merged.pop(key, None)
    merged.update(topology.properties)
    if settings.quorum.dynamic and caps.auto_join and topology.is_controller:
        merged["controller.quorum.auto.join.enable"] = "true"
    merged.update(
        security.properties(
            settings, topology.protocols, credentials, topology.client_listeners, topology.is_controller
        )
    )
    merged.update(racks.properties(rack, topology.is_broker))
    written_keys = frozenset(merged)
    merged.update((override.key, override.value) for override in settings.overrides)
    _check_node_id(merged, settings.overrides)
    _check_identity(merged, topology, settings.overrides)
    return Plan(
        settings=settings,
        files=files,
        caps=caps,
        topology=topology,
        properties=tuple(merged.items()),
        log_dirs=_log_dirs(merged, settings.overrides),
        log_dirs_source=_source("log.dirs", settings.overrides, "DATA_DIR (default SHARE_DIR/<node id>)"),
        voter_ids=frozenset() if settings.quorum.dynamic else _voter_ids(merged, settings.overrides),
        written_keys=written_keys,
        scram=scram,
    )


def is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in SECRET_MARKERS) or lowered.endswith(SECRET_SUFFIXES)


def shown_value(key: str, value: str) -> str:
    """A property value as logs may show it."""
    return MASK if is_secret(key) else value


def _override_of(key: str, overrides: tuple[Override, ...]) -> Optional[Override]:
    """The KAFKA_CFG_* variable that sets ``key`` last, if one does."""
    return next((override for override in reversed(overrides) if override.key == key), None)


def _source(key: str, overrides: tuple[Override, ...], derived: str) -> str:
    override = _override_of(key, overrides)
    return override.variable if override else derived


def _invalid(
    properties: dict[str, str], key: str, overrides: tuple[Override, ...], expected: str
) -> InvalidInput:
    override = _override_of(key, overrides)
    source = override.variable if override else name("KRAFT_TEMPLATE")
    return InvalidInput(
        f"{source} sets {key} to {shown_value(key, properties.get(key, ''))!r}, which "
        f"Kafka cannot use here; expected {expected}"
    )


def _check_node_id(properties: dict[str, str], overrides: tuple[Override, ...]) -> None:
    """node.id as the template or an override left it is a number Kafka takes (then, below, ours)."""
    value = properties["node.id"]
    if not re.fullmatch(r"0|[1-9][0-9]{0,9}", value) or int(value) > 2**31 - 1:
        raise _invalid(properties, "node.id", overrides, "a whole number, e.g. 0")


def _check_identity(properties: dict[str, str], topology: Topology, overrides: tuple[Override, ...]) -> None:
    """What Kafka would reject at start because it contradicts the pod's derived identity."""
    derived = topology.properties
    if properties["node.id"] != derived["node.id"]:
        raise _invalid(
            properties,
            "node.id",
            overrides,
            f"this pod's node id {derived['node.id']} (from its ordinal in HOSTNAME), or no node.id at all",
        )
    broker_id = properties.get("broker.id", "").strip()
    if broker_id and broker_id != derived["node.id"]:
        raise _invalid(
            properties,
            "broker.id",
            overrides,
            f"no broker.id (KRaft uses node.id), or {derived['node.id']} like node.id",
        )
    roles = {role.strip() for role in properties["process.roles"].split(",")}
    if roles != set(derived["process.roles"].split(",")):
        wanted = "a controller" if topology.is_controller else "not a controller"
        raise _invalid(
            properties,
            "process.roles",
            overrides,
            f"roles that fit this pod, which is {wanted}: {derived['process.roles']}",
        )


def _log_dirs(properties: dict[str, str], overrides: tuple[Override, ...]) -> tuple[str, ...]:
    dirs = [part.strip() for part in properties["log.dirs"].split(",")]
    if not all(d.startswith("/") for d in dirs):
        raise _invalid(properties, "log.dirs", overrides, "absolute paths separated by commas")
    normalised = [posixpath.normpath(d) for d in dirs]
    if len(set(normalised)) != len(normalised):
        raise _invalid(properties, "log.dirs", overrides, "each directory once (Kafka refuses duplicates)")
    metadata_dir = properties.get("metadata.log.dir", "").strip()
    if metadata_dir and metadata_dir not in dirs:
        if not metadata_dir.startswith("/"):
            raise _invalid(properties, "metadata.log.dir", overrides, "an absolute path")
        dirs.append(metadata_dir)
    return tuple(dirs)


def _voter_ids(properties: dict[str, str], overrides: tuple[Override, ...]) -> frozenset[int]:
    voters = [part.strip() for part in properties["controller.quorum.voters"].split(",")]
    if not all(_VOTER.match(voter) for voter in voters):
        raise _invalid(
            properties, "controller.quorum.voters", overrides, "id@host:port,... e.g. 0@kafka-0:9093"
        )
    return frozenset(int(voter.split("@", 1)[0]) for voter in voters)
