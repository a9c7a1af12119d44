"""The start sequence: settings -> installation -> plan -> cluster id, storage, config -> exec.

The only module that reads the process environment (once, in :func:`start`); ``cli.py`` hands it
the option values and maps the errors it raises to exit codes.
"""

from __future__ import annotations

import errno
import logging
import os
import posixpath
import sys
from collections.abc import Mapping
from typing import Optional

from kraft_entrypoint import (
    cds,
    cgroup,
    cluster_id,
    cluster_id_store,
    credentials,
    files,
    installation,
    launch,
    memory,
    metrics,
    properties,
    storage,
    typos,
)
from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.kafka_versions import Capabilities, untested
from kraft_entrypoint.options import OPTIONS, name
from kraft_entrypoint.plan import Files, Plan, make_plan, resolve_files, shown_value
from kraft_entrypoint.security import Credentials
from kraft_entrypoint.settings import Settings, parse_settings

log = logging.getLogger("kraft_entrypoint")
MAX_TEMPLATE_BYTES = 1024 * 1024


def start(values: Mapping[str, Optional[str]], *, dry_run: bool) -> None:
    """Everything a container start does, from the option values (keyed by variable name) the
    command line gathered; a real run ends by exec'ing Kafka. The process environment is read
    here, once: for the KAFKA_CFG_* variables and as the base of the JVMs' environment."""
    environment = dict(os.environ)
    # A flag without a value (--strict) leaves its variable (STRICT=...) to be read here.
    values = {
        **values,
        **{
            option.variable: environment.get(option.variable)
            for option in OPTIONS
            if option.flag_value is not None and values.get(option.variable) is None
        },
    }
    # Before the settings: a typo may be why a required input is missing.
    unknown = typos.unknown_variables(environment, typos.our_variables())
    for finding in unknown:
        log.warning("%s", finding.message)
    run(parse_settings(values, environment), environment, dry_run=dry_run, unknown=unknown)


def run(
    settings: Settings,
    environment: Mapping[str, str],
    *,
    dry_run: bool,
    unknown: tuple[typos.Finding, ...] = (),
) -> None:
    """The start for validated settings; ``environment`` is the process environment Kafka inherits,
    ``unknown`` the variables already reported as not understood."""
    heap = _heap(settings, environment)  # before anything is written: a heap that cannot fit exits 2
    agent = _metrics_agent(settings)  # likewise: METRICS=prometheus without the agent exits 2
    caps = installation.read_capabilities(settings.files.kafka_home, settings.files.kafka_version)
    _check_tested(caps, settings)
    files_ = resolve_files(settings, caps)
    _check_template_is_not_config(files_)
    material = credentials.read(settings, files_.keystore)
    plan = make_plan(settings, files_, caps, _read_template(files_.template, caps), material.credentials)
    _log_plan(plan, material.credentials)
    unknown = (*unknown, *_unknown_overrides(settings, caps, plan))
    if settings.strict and unknown:
        raise InvalidInput(typos.strict_message(unknown))
    if not dry_run:
        launch.check_start_script(plan.start_script)
    _check_config_writable(files_.config)

    found = storage.inspect(plan.log_dirs, plan.log_dirs_source)
    dynamic = plan.dynamic
    # Checked before and after obtaining the id: a refused start must not publish one either.
    storage.check(
        found,
        node_id=plan.node_id,
        voter_ids=plan.voter_ids,
        cluster_id=settings.storage.cluster_id,
        cluster_id_source="CLUSTER_ID",
        dynamic=dynamic,
    )
    obtained = cluster_id_store.obtain(settings, found.cluster_id, dry_run=dry_run)
    storage.check(
        found,
        node_id=plan.node_id,
        voter_ids=plan.voter_ids,
        cluster_id=obtained.value,
        cluster_id_source=obtained.source,
        dynamic=dynamic,
    )
    log.info("cluster id %s from %s", obtained.value or "(not known yet)", obtained.source)
    if obtained.value in cluster_id.EXAMPLE_IDS:
        log.warning(
            "cluster id %s is an example id printed in documentation; every cluster needs "
            "its own: make one with kraft-entrypoint --new-cluster-id before the first start",
            obtained.value,
        )

    format_argv: tuple[str, ...] = ()
    if found.unformatted and obtained.value is None:  # a dry run before the id exists
        log.info("format: kafka-storage.sh format for %s, once the cluster id is known",
                 ", ".join(found.unformatted))
    elif found.unformatted and obtained.value is not None:
        format_argv = plan.format_argv(obtained.value)
        log.info(
            "format: running kafka-storage.sh %s for %s",
            " ".join(format_argv[1:]),
            ", ".join(found.unformatted),
        )
    else:
        log.info("format: skipped, %s already formatted for this cluster and node", ", ".join(plan.log_dirs))
    hint = plan.add_controller_hint()
    if hint is not None:
        log.info(
            "this controller joins the quorum as an observer; to make it a voter, run once it is up: %s",
            " ".join(hint),
        )
    log.info("exec: %s", " ".join(plan.server_argv))
    header = f"Generated by kraft-entrypoint from {files_.template}"
    format_env = None
    mode, kafka_home = settings.files.cds, settings.files.kafka_home
    if found.unformatted:
        format_env = {
            **(cds.environment_for(mode, kafka_home, "storage", environment) or environment),
            "KAFKA_HEAP_OPTS": memory.FORMAT_HEAP_OPTS,  # its own small heap, never the server's
        }
    server_env = cds.environment_for(mode, kafka_home, "server", environment)
    if heap.opts is not None:
        server_env = {**(server_env or environment), "KAFKA_HEAP_OPTS": heap.opts}
    server_opts = metrics.server_kafka_opts(server_env or environment, agent)  # the server JVM only
    if server_opts is not None:
        server_env = {**(server_env or environment), "KAFKA_OPTS": server_opts}
    if dry_run:
        sys.stdout.buffer.write(properties.render(plan.shown_properties, header))
        return

    if material.keystore_pem is not None:
        credentials.write_keystore(files_.keystore, material.keystore_pem)
    _write_config(
        files_.config, properties.render(plan.properties, header), mode=0o600 if plan.holds_secrets else 0o640
    )
    if found.unformatted:
        storage.format_storage(format_argv, env=format_env)
    launch.exec_server(plan.server_argv, env=server_env)


def _check_tested(caps: Capabilities, settings: Settings) -> None:
    """SPEC "Kafka versions": newer than the test matrix warns; a new major exits 2 unless allowed."""
    beyond = untested(caps.version)
    if beyond is None:
        return
    if beyond.new_major and not settings.allow_untested_kafka:
        raise InvalidInput(
            f"{beyond.reason}; set {name('KAFKA_UNTESTED')}=allow to start it anyway, or use an "
            "image with a tested Kafka"
        )
    log.warning("%s; starting it anyway", beyond.reason)


def _unknown_overrides(settings: Settings, caps: Capabilities, plan: Plan) -> tuple[typos.Finding, ...]:
    """The KAFKA_CFG_* overrides the installed Kafka does not define, each logged as a warning."""
    if not settings.overrides:
        return ()
    release, names = installation.config_names(caps.version)
    if release is None:
        log.info("KAFKA_CFG_* names: no list of Kafka's configurations for %s or older; not checked",
                 caps.version)
        return ()
    if release != caps.version:
        log.info("KAFKA_CFG_* names: checked against the configurations of Kafka %s, the newest "
                 "list not above %s", release, caps.version)
    found = typos.unknown_overrides(settings.overrides, names, plan.written_keys, str(release))
    for finding in found:
        log.warning("%s", finding.message)
    return found


def _metrics_agent(settings: Settings) -> Optional[str]:
    """The server's -javaagent option for METRICS=prometheus (None: off, and nothing logged)."""
    found = installation.metrics_files(settings.files.kafka_home)
    agent = metrics.server_option(settings.metrics.enabled, settings.metrics.port, found)
    if agent is not None:
        log.info("metrics: Prometheus on port %d, server JVM only: %s", settings.metrics.port, agent)
    return agent


def _heap(settings: Settings, environment: Mapping[str, str]) -> memory.Heap:
    """SPEC "Memory": the cgroup is read only when neither KAFKA_HEAP_OPTS nor MEMORY_LIMIT decides."""
    given = environment.get("KAFKA_HEAP_OPTS")
    limit = settings.memory.limit
    from_cgroup = cgroup.memory_limit() if not (given or "").strip() and limit is None else None
    heap = memory.server_heap(given, limit, from_cgroup, settings.memory.heap_percent)
    log.info("%s", heap.reason)
    return heap


def _check_template_is_not_config(files_: Files) -> None:
    if files.same_file(files_.template, files_.config):
        raise InvalidInput(
            f"{name('KRAFT_CONFIG')} {files_.config} reaches the same file as the template "
            f"{files_.template} ({name('KRAFT_TEMPLATE')}); the template is never written, so point "
            "KRAFT_CONFIG elsewhere, e.g. /var/lib/kafka/config/server.properties"
        )


def _read_template(path: str, caps: Capabilities) -> list[tuple[str, str]]:
    try:
        data = files.read_regular(path, MAX_TEMPLATE_BYTES)
        if data is None:
            raise FileNotFoundError(errno.ENOENT, "no such file")
        return properties.parse(data)
    except (OSError, ValueError, files.UnusableFile) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise InvalidInput(
            f"cannot read the template {path} named by {name('KRAFT_TEMPLATE')}: "
            f"{reason}; point it at a server.properties, e.g. "
            + posixpath.join("/opt/kafka", caps.template_path)
        ) from None


def _check_config_writable(path: str) -> None:
    """Before any id is published: a config that cannot be written would strand it."""
    reason = files.unwritable_reason(path)
    if reason is not None:
        raise _unwritable_config(path, reason)


def _unwritable_config(path: str, reason: Optional[str]) -> InvalidInput:
    return InvalidInput(
        f"cannot write {path} named by {name('KRAFT_CONFIG')}: {reason}; "
        "point it at a writable path, e.g. /var/lib/kafka/config/server.properties"
    )


def _write_config(path: str, data: bytes, mode: int) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        files.write_atomic(path, data, mode=mode)
    except OSError as error:
        raise _unwritable_config(path, error.strerror) from None


def _log_plan(plan: Plan, known: Credentials) -> None:
    topology, settings = plan.topology, plan.settings
    if topology.is_voter:
        role = "initial controller" if settings.quorum.dynamic else "voter"
    elif topology.is_controller:
        role = "controller that joins the quorum later"
    else:
        role = "broker only, not a voter"
    log.info("node %d (%s): process.roles=%s", plan.node_id, role, topology.roles)
    for key in ("controller.quorum.voters", "controller.quorum.bootstrap.servers", "advertised.listeners"):
        if key in topology.properties:
            log.info("%s=%s", key, topology.properties[key])
    chosen = topology.protocols
    if chosen.broker != "PLAINTEXT":
        log.info(
            "listeners: clients %s, controller %s%s",
            chosen.broker,
            chosen.controller,
            " with client certificates required (mutual TLS)" if chosen.tls else "",
        )
    if chosen.tls:
        log.info(
            "TLS from %s: client certificates %s on the client listeners; node certificate %s",
            settings.security.tls_dir,
            settings.security.tls_client_auth,
            known.node_subject,
        )
    if chosen.sasl:
        log.info(
            "SASL/PLAIN: %d users from %s; brokers authenticate as %s",
            len(known.users),
            settings.security.sasl_users_dir,
            settings.security.sasl_inter_broker_user,
        )
        if not chosen.tls:
            log.warning("SASL without TLS: passwords cross the network in clear; set TLS_DIR to encrypt them")
    if settings.security.authorization == "acl":
        log.info(
            "authorization: ACLs (StandardAuthorizer), nothing allowed without an ACL; super users: %s",
            dict(plan.properties).get("super.users", ""),
        )
    if not (chosen.tls or chosen.sasl):
        log.warning("security: none (PLAINTEXT, no authentication)")
    for override in settings.overrides:
        log.info("%s: %s=%s", override.variable, override.key, shown_value(override.key, override.value))
