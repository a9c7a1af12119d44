"""One log line per decision of a start (SPEC "Output"): the node's role and quorum, listeners,
TLS, SASL and ACLs, the overrides (secrets masked, control characters escaped), the rack, and the
SCRAM users a formatted cluster may lack. It decides nothing; the one file it reads is the
record of SCRAM users beside meta.properties."""

from __future__ import annotations

import logging
import shlex
from typing import Optional

from kraft_entrypoint import storage
from kraft_entrypoint.plan import Plan, shown_value
from kraft_entrypoint.security import Credentials

log = logging.getLogger("kraft_entrypoint")


def log_plan(plan: Plan, known: Credentials) -> None:
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
            "SASL/%s: %d users from %s; brokers authenticate as %s",
            settings.security.sasl_mechanism,
            len(known.users),
            settings.security.sasl_users_dir,
            settings.security.sasl_inter_broker_user,
        )
        if settings.security.sasl_mechanism != "PLAIN" and chosen.controller.startswith("SASL_"):
            log.info(
                "SASL: the controller listener uses PLAIN, since controllers cannot read the SCRAM "
                "credentials in the metadata they serve"
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
    for override in settings.overrides:  # escaped: a newline in a value cannot forge a log line
        log.info("%s: %s=%s", override.variable, one_line(override.key),
                 one_line(shown_value(override.key, override.value)))


def log_rack(plan: Plan, given: Optional[str]) -> None:
    if given is None:
        return
    source = f"RACK_FILE {plan.settings.rack.file}" if plan.settings.rack.file else "RACK"
    if plan.topology.is_broker:
        log.info(
            "rack %s from %s: broker.rack set; consumers with client.rack=%s may fetch from this "
            "broker's replicas (RackAwareReplicaSelector)", given, source, given,
        )
    else:
        log.info("rack %s from %s: not used, a controller-only node has no replicas", given, source)


def log_users_after_format(plan: Plan, found: storage.Storage) -> None:
    """SCRAM on formatted storage: each user of SASL_USERS_DIR the format did not write (by its
    record beside meta.properties) is not known to the cluster unless it was added since."""
    if plan.scram is None:
        return
    record = storage.scram_record(found)
    written = frozenset(user for mechanism, user in record or () if mechanism == plan.scram.mechanism)
    hints = plan.add_scram_user_hints(written)
    if hints and record is None:
        log.warning(
            "SASL %s: this storage was formatted without the record of SCRAM users "
            "(%s), so none is known to have been written at format",
            plan.scram.mechanism,
            storage.SCRAM_RECORD,
        )
    for hint in hints:
        log.warning(
            "SASL %s: user %s (SASL_USERS_DIR) was not written into the cluster's metadata at format; "
            "unless it was added since, it cannot log in until an admin adds it: %s",
            plan.scram.mechanism,
            hint[-1],
            shlex.join(hint),
        )


def one_line(text: str) -> str:
    """``text`` with control characters (newline, CR, ESC, NUL...) as escapes, for a log line."""
    return "".join(
        char if char.isprintable() or char == " " else char.encode("unicode_escape").decode("ascii")
        for char in text
    )
