"""Inputs the entrypoint does not understand (SPEC "Inputs that are not understood", "Kafka
versions"): a Kafka newer than the test matrix, and KAFKA_CFG_* overrides that are no configuration
of the installed Kafka, each one warning line (the variable typos are checked in ``start``)."""

from __future__ import annotations

import logging

from kraft_entrypoint import installation, typos
from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.kafka_versions import Capabilities, untested
from kraft_entrypoint.options import name
from kraft_entrypoint.plan import Plan
from kraft_entrypoint.settings import Settings

log = logging.getLogger("kraft_entrypoint")


def check_tested(caps: Capabilities, settings: Settings) -> None:
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


def unknown_overrides(settings: Settings, caps: Capabilities, plan: Plan) -> tuple[typos.Finding, ...]:
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
