"""The objects of each rendered overlay agree with each other and with the entrypoint's contract:
namespace and labels, every pod variable against SPEC.md's tables (SPEC_VARIABLES, written out
in support.py as tests/conftest.py does, because SPEC.md is not in the repository), Secret keys,
mounts and the locked-down pod, ports and probes, StatefulSets and their Services, budgets.

No container runs here (these tests are in the normal test command)."""

from __future__ import annotations

import re

from .support import (
    KAFKA_SCRIPT_VARIABLES,
    NAMESPACE,
    SPEC_VARIABLES,
    Rendered,
    container,
    env_items,
    has_broker_role,
    is_controller_set,
    literal_env,
    named_ports,
    secret_keys,
    selects,
    set_env,
    statefulset_of,
    template_labels,
)

_VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def test_every_object_is_in_the_namespace(out: Rendered) -> None:
    """Everything but the Namespace itself lives in kafka-kraft, with the instance labels."""
    for doc in out.docs:
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == NAMESPACE
            continue
        assert doc["metadata"].get("namespace") == NAMESPACE, (doc["kind"], doc["metadata"]["name"])
        assert doc["metadata"]["labels"]["app.kubernetes.io/instance"] == "kafka"


def test_every_pod_variable_is_in_the_spec(out: Rendered) -> None:
    """Each variable a pod sets is read by the entrypoint (SPEC.md), by Kafka's scripts, or is
    a helper that another variable expands with $(NAME); each $(NAME) is defined before it is
    used (Kubernetes expands only earlier ones, and leaves the rest as literal text)."""
    for sts in out.all("StatefulSet"):
        items = env_items(sts)
        names = [e["name"] for e in items]
        assert len(names) == len(set(names)), f"duplicate variables: {names}"
        referenced = {ref for e in items for ref in _VAR_REF.findall(e.get("value", ""))}
        for position, item in enumerate(items):
            name = item["name"]
            known = (
                name in SPEC_VARIABLES
                or name in KAFKA_SCRIPT_VARIABLES
                or (name.startswith("KAFKA_CFG_") and name != "KAFKA_CFG_")
                or name in referenced
            )
            assert known, f"{sts['metadata']['name']}: {name} is read by nobody"
            for ref in _VAR_REF.findall(item.get("value", "")):
                assert ref in names[:position], f"{name} uses $({ref}) before it is defined"


def test_every_secret_reference_resolves(out: Rendered) -> None:
    """secretKeyRef keys exist in their Secret; Secret volumes come from a Secret in the output
    or from a cert-manager Certificate (whose Secret holds tls.crt, tls.key, ca.crt)."""
    certificates = {c["spec"]["secretName"]: c for c in out.all("Certificate")}
    for sts in out.all("StatefulSet"):
        for item in env_items(sts):
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in secret_keys(out.get("Secret", ref["name"])), item
        for volume in sts["spec"]["template"]["spec"].get("volumes", []):
            if "secret" not in volume:
                continue
            name = volume["secret"]["secretName"]
            secret = out.maybe("Secret", name)
            if secret is not None:
                keys = set(secret_keys(secret))
            else:
                assert name in certificates, f"Secret {name} is neither in the output nor a Certificate's"
                keys = {"tls.crt", "tls.key", "ca.crt"}
            for item in volume["secret"].get("items", []):
                assert item["key"] in keys, (name, item)
            assert volume["secret"].get("optional") is not True, "a missing Secret must stop the pod"


def test_every_mount_has_a_volume_and_the_pod_stays_locked_down(out: Rendered) -> None:
    """Every volumeMount names a volume or claim; every pod runs non-root on a read-only root
    filesystem without privileges; Secret mounts are read-only and not world-readable."""
    for sts in out.all("StatefulSet"):
        spec = sts["spec"]["template"]["spec"]
        c = container(sts)
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        claims = {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates", [])}
        for mount in c["volumeMounts"]:
            assert mount["name"] in volumes or mount["name"] in claims, mount
            volume = volumes.get(mount["name"], {})
            if "secret" in volume:
                assert mount.get("readOnly") is True, mount
                assert volume["secret"].get("defaultMode", 0o644) & 0o007 == 0, volume
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 1000
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_ports_in_env_match_container_ports_and_probes(out: Rendered) -> None:
    """BROKER_PORT, CONTROLLER_PORT and EXTERNAL_PORT are the named container ports of pods
    that have that listener, METRICS_PORT (port "metrics") of pods with METRICS=prometheus, and
    no pod declares a port it does not listen on; every probe is
    the entrypoint's own ``probe startup|ready|live`` in the image's venv (it reads the pod's
    variables, so it follows the secure component's TLS and SASL)."""
    for sts in out.all("StatefulSet"):
        env = literal_env(sts)
        expected = {"controller": int(env["CONTROLLER_PORT"])}
        if is_controller_set(sts):
            external = [k for k in set_env(sts) if k.startswith("EXTERNAL_")]
            assert not external, "a controller-only pod has no EXTERNAL listener"
        else:
            expected["broker"] = int(env["BROKER_PORT"])
            if "CONTROLLER_STATEFULSET" in env:  # dedicated brokers: no controller listener
                del expected["controller"]
        if "EXTERNAL_HOST" in env:
            expected["external"] = int(env["EXTERNAL_PORT"])
        if env["METRICS"] == "prometheus":
            expected["metrics"] = int(env["METRICS_PORT"])
        assert named_ports(sts) == expected, sts["metadata"]["name"]
        probes = (("startupProbe", "startup"), ("readinessProbe", "ready"), ("livenessProbe", "live"))
        for probe, kind in probes:
            spec = container(sts)[probe]
            assert set(spec) & {"tcpSocket", "httpGet", "exec", "grpc"} == {"exec"}, probe
            command = ["/opt/kraft-entrypoint/bin/python3", "-m", "kraft_entrypoint", "probe", kind]
            assert spec["exec"]["command"] == command, probe
            assert spec["timeoutSeconds"] > 5, f"{probe}: PROBE_TIMEOUT (5 s) must fit in timeoutSeconds"


def test_statefulsets_have_their_headless_service_and_disjoint_selectors(out: Rendered) -> None:
    """Each StatefulSet's serviceName is a headless Service publishing not-ready pods, its
    selector matches its own pods and no other StatefulSet's, and its SERVICE is serviceName."""
    sets = out.all("StatefulSet")
    for sts in sets:
        labels = template_labels(sts)
        assert statefulset_of(out, sts["spec"]["selector"]["matchLabels"]) == [sts["metadata"]["name"]]
        headless = out.get("Service", sts["spec"]["serviceName"])
        assert headless["spec"]["clusterIP"] == "None"
        assert headless["spec"]["publishNotReadyAddresses"] is True
        assert selects(headless["spec"]["selector"], labels)
        assert literal_env(sts)["SERVICE"] == sts["spec"]["serviceName"]
        assert sts["spec"]["podManagementPolicy"] == "Parallel"


def test_services_reach_the_pods_and_ports_they_name(out: Rendered) -> None:
    """Every Service selects pods that declare each of its target ports; kafka-client selects
    brokers only (a controller-only pod has no broker port)."""
    for service in out.all("Service"):
        selector = dict(service["spec"]["selector"])
        pod_name = selector.pop("statefulset.kubernetes.io/pod-name", None)
        targets = statefulset_of(out, selector)
        assert targets, f"Service {service['metadata']['name']} selects no pods"
        for port in service["spec"]["ports"]:
            assert any(port["targetPort"] in named_ports(out.get("StatefulSet", t)) for t in targets), port
        if service["metadata"]["name"] == "kafka-client" or pod_name:
            for t in targets:
                assert has_broker_role(out.get("StatefulSet", t)), (service["metadata"]["name"], t)
                ports = named_ports(out.get("StatefulSet", t))
                assert all(p["targetPort"] in ports for p in service["spec"]["ports"])


def test_each_statefulset_has_exactly_one_disruption_budget(out: Rendered) -> None:
    """Each PodDisruptionBudget selects the pods of exactly one StatefulSet, and each
    StatefulSet has exactly one: one voter or one broker down at a time."""
    covered: dict[str, str] = {}
    for pdb in out.all("PodDisruptionBudget"):
        targets = statefulset_of(out, pdb["spec"]["selector"]["matchLabels"])
        assert len(targets) == 1, f"PDB {pdb['metadata']['name']} selects {targets}"
        assert targets[0] not in covered, f"{targets[0]} has two budgets"
        covered[targets[0]] = pdb["metadata"]["name"]
        assert pdb["spec"]["maxUnavailable"] == 1
    assert set(covered) == {s["metadata"]["name"] for s in out.all("StatefulSet")}
