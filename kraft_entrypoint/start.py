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
    decisions,
    files,
    format_jvm,
    installation,
    launch,
    memory,
    metrics,
    name_cache,
    properties,
    rack,
    storage,
    typos,
    unknown_inputs,
)
from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.kafka_versions import Capabilities
from kraft_entrypoint.options import OPTIONS, name
from kraft_entrypoint.plan import Files, make_plan, resolve_files
from kraft_entrypoint.settings import Settings, parse_settings
from kraft_entrypoint.topology import own_names

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
    unknown_inputs.check_tested(caps, settings)
    files_ = resolve_files(settings, caps)
    _check_template_is_not_config(files_)
    material = credentials.read(settings, files_.keystore, own_names(settings))
    given_rack = _rack(settings)
    template = _read_template(settings, files_.template, caps)
    plan = make_plan(settings, files_, caps, template, material.credentials, given_rack)
    decisions.log_plan(plan, material.credentials)
    decisions.log_rack(plan, given_rack)
    unknown = (*unknown, *unknown_inputs.unknown_overrides(settings, caps, plan))
    if settings.strict and unknown:
        raise InvalidInput(typos.strict_message(unknown))
    if not dry_run:
        launch.check_start_script(plan.start_script)
    _check_config_writable(files_.config)
    cluster_id_store.check_share_dir(settings)  # before DATA_DIR under it is read: exit 2, not 3

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
            "its own: make one with `kraft-entrypoint --new-cluster-id` (in a checkout: `python -m "
            "kraft_entrypoint --new-cluster-id`) before the first start",
            obtained.value,
        )

    format_argv: tuple[str, ...] = ()
    shown_format: tuple[str, ...] = ()  # the same with passwords masked, for the log
    if found.unformatted and obtained.value is None:  # a dry run before the id exists
        log.info("format: would run kafka-storage.sh format for %s once the cluster id is known%s",
                 ", ".join(found.unformatted),
                 f", with --add-scram for each of the {len(plan.scram.users)} users" if plan.scram else "")
    elif found.unformatted and obtained.value is not None:
        format_argv = plan.format_argv(obtained.value)
        shown_format = plan.format_argv(obtained.value, masked=True)
        if dry_run:
            log.info("format: would run kafka-storage.sh %s for %s", " ".join(shown_format[1:]),
                     ", ".join(found.unformatted))
    else:
        log.info("format: skipped, %s already formatted for this cluster and node", ", ".join(plan.log_dirs))
        decisions.log_users_after_format(plan, found)
    hint = plan.add_controller_hint()
    if hint is not None:
        log.info(
            "this controller joins the quorum as an observer; to make it a voter, run once it is up: %s",
            " ".join(hint),
        )
    if dry_run:
        log.info("exec: would run %s", " ".join(plan.server_argv))
    header = f"Generated by kraft-entrypoint from {files_.template}"
    format_env, format_said = None, ""
    mode, kafka_home = settings.files.cds, settings.files.kafka_home
    if found.unformatted:
        format_env, format_said = format_jvm.environment(
            cds.environment_for(mode, kafka_home, "storage", environment) or environment
        )
    server_env = cds.environment_for(mode, kafka_home, "server", environment)
    if heap.opts is not None:
        server_env = {**(server_env or environment), "KAFKA_HEAP_OPTS": heap.opts}
    named_opts, said = name_cache.server_kafka_opts((server_env or environment).get("KAFKA_OPTS", ""))
    log.info("%s", said)
    if named_opts is not None:
        server_env = {**(server_env or environment), "KAFKA_OPTS": named_opts}
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
        log.info("format: running kafka-storage.sh %s for %s (%s)", " ".join(shown_format[1:]),
                 ", ".join(found.unformatted), format_said)
        if plan.scram is not None:
            users = [user for user, _ in plan.scram.users]
            storage.record_scram_users(found.unformatted, plan.scram.mechanism, users)
        storage.format_storage(format_argv, env=format_env, secrets=plan.secrets)
    log.info("exec: %s", " ".join(plan.server_argv))  # after the format's output, just before Kafka's
    launch.exec_server(plan.server_argv, env=server_env)


def _rack(settings: Settings) -> Optional[str]:
    """RACK, or the content of RACK_FILE (read now: an init container or the kubelet wrote it)."""
    path = settings.rack.file
    if path is None:
        return settings.rack.value
    try:
        data = files.read_regular(path, rack.MAX_FILE_BYTES)
        if data is None:
            raise FileNotFoundError(errno.ENOENT, "no such file")
    except (OSError, files.UnusableFile) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise InvalidInput(
            f"cannot read {name('RACK_FILE')} {path}: {reason}; mount the file that holds the rack "
            f"(e.g. {rack.EXAMPLE}) there, or set RACK instead"
        ) from None
    return rack.from_file(data, path)


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


def _read_template(settings: Settings, path: str, caps: Capabilities) -> list[tuple[str, str]]:
    try:
        data = files.read_regular(path, MAX_TEMPLATE_BYTES)
        if data is None:
            raise FileNotFoundError(errno.ENOENT, "no such file")
        return properties.parse(data)
    except (OSError, ValueError, files.UnusableFile) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        kafka_home = settings.files.kafka_home
        if settings.files.template is None:  # derived, not given: say from what
            raise InvalidInput(
                f"no template at {path} ({reason}; derived from {name('KAFKA_HOME')}={kafka_home} for "
                f"Kafka {caps.version}); point KAFKA_HOME at a Kafka installation, or set "
                f"{name('KRAFT_TEMPLATE')} to use another server.properties"
            ) from None
        raise InvalidInput(
            f"cannot read the template {path} named by {name('KRAFT_TEMPLATE')}: "
            f"{reason}; point it at a server.properties, e.g. "
            + posixpath.join(kafka_home, caps.template_path)
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
