"""The StatefulSet layout's inputs checked against each other: how many voters, which pods run
as controllers, and the broker node-id offset of a dedicated-controller layout. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

from kraft_entrypoint import fields
from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.fields import MAX_NODE_ID
from kraft_entrypoint.options import default, name

MAX_VOTERS = 1000
_DEDICATED_ONLY = ("CONTROLLER_SERVICE", "BROKER_ID_OFFSET")


def check_quorum(ordinal: int, replicas: Optional[int], controller_replicas: Optional[int]) -> None:
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
    check_voter_count(voters_variable, voters)


def check_voter_count(variable: str, voters: int) -> None:
    if voters > MAX_VOTERS:
        raise InvalidInput(
            f"{name(variable)}={voters} would make a controller quorum of {voters} voters "
            f"(at most {MAX_VOTERS}); keep the quorum small with CONTROLLER_REPLICAS=3"
        )


def broker_id_offset(raw: Mapping[str, Optional[str]], controller_statefulset: Optional[str]) -> int:
    """BROKER_ID_OFFSET (and CONTROLLER_SERVICE) belong to the dedicated-controller layout only."""
    if controller_statefulset is None:
        for variable in _DEDICATED_ONLY:
            if raw[variable] is not None:
                raise InvalidInput(
                    f"{name(variable)} only applies with dedicated controllers; set CONTROLLER_STATEFULSET "
                    f"too (e.g. CONTROLLER_STATEFULSET=kafka-controller) or unset {variable}"
                )
    return fields.broker_id_offset(raw["BROKER_ID_OFFSET"] or default("BROKER_ID_OFFSET"))


def check_dedicated(
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
    check_voter_count("CONTROLLER_REPLICAS", controller_replicas)
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
