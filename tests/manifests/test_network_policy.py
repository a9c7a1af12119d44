"""k8s/components/network-policy selects exactly the pods it means: rendered with kustomize onto
the base, the dedicated layout and the external-nodeport overlay (support.COMBINATIONS), its
selectors are evaluated here as Kubernetes evaluates them (label selectors, NetworkPolicy peers
and named ports, pure Python) against the rendered pod templates and a few client pods:

- the controller port only from this cluster's brokers and controllers;
- the broker port from them and from pods labelled kafka-client: "true" in the namespace
  (k8s/README.md, "Network policy"), not from one without the label or in another namespace;
- the external port from anywhere, on the pods that have it;
- the metrics port from namespace "monitoring" only.

No cluster enforces it here (tests/k8s is where a real one runs); no container runs here."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, Optional

import pytest

from .support import NAMESPACE, Obj, Rendered, container, template_labels

POLICY_RENDERS = (
    "network-policy", "network-policy+dedicated-controllers", "network-policy+external-nodeport",
)
CLIENT_LABEL = {"kafka-client": "true"}


def selector_matches(selector: Optional[Mapping[str, Any]], labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector: matchLabels and matchExpressions all hold; {} matches everything."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a connection comes from: a pod (labels, namespace) or, with pod None, an address
    outside the cluster."""

    name: str
    labels: Optional[Mapping[str, str]]
    namespace: str = NAMESPACE

    def namespace_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace}


def peer_admits(peer: Obj, source: Source, policy_namespace: str) -> bool:
    """One NetworkPolicyPeer: podSelector alone = pods of the policy's namespace; with a
    namespaceSelector = pods of the namespaces it selects; ipBlock = addresses (here: any
    address outside the cluster, and no pod, which a CIDR would not reliably name)."""
    if "ipBlock" in peer:
        return source.labels is None
    if source.labels is None:
        return False
    if "namespaceSelector" in peer:
        if not selector_matches(peer["namespaceSelector"], source.namespace_labels()):
            return False
    elif source.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or selector_matches(peer["podSelector"], source.labels)


def rule_covers_port(rule: Obj, port_name: str, pod: Obj) -> bool:
    """A rule's ports: none = every port; a named port is the pod's container port of that name."""
    if not rule.get("ports"):
        return True
    numbers = {p["name"]: p["containerPort"] for p in container(pod).get("ports", [])}
    for port in rule["ports"]:
        if port.get("protocol", "TCP") != "TCP":
            continue
        if port.get("port") in (port_name, numbers.get(port_name)):
            return True
    return False


def admitted(policies: list[Obj], pod: Obj, port_name: str, source: Source) -> bool:
    """Whether ingress to ``pod``'s port ``port_name`` from ``source`` is let in: no policy
    selecting the pod lets everything in; else any ingress rule of any of them admits it."""
    selecting = [p for p in policies if p["metadata"]["namespace"] == NAMESPACE
                 and selector_matches(p["spec"]["podSelector"], template_labels(pod))
                 and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("ingress") or []:
            if not rule_covers_port(rule, port_name, pod):
                continue
            peers = rule.get("from")
            if not peers or any(peer_admits(p, source, policy["metadata"]["namespace"]) for p in peers):
                return True
    return False


def kafka_sources(out: Rendered) -> Iterator[Source]:
    for sts in out.all("StatefulSet"):
        yield Source(sts["metadata"]["name"], template_labels(sts))


OTHERS = {
    "client": Source("client", {"app": "orders", **CLIENT_LABEL}),
    "no-label": Source("no-label", {"app": "orders"}),
    "label-false": Source("label-false", {"app": "orders", "kafka-client": "false"}),
    "client-elsewhere": Source("client-elsewhere", {"app": "orders", **CLIENT_LABEL}, namespace="apps"),
    "other-cluster": Source(
        "other-cluster", {"app.kubernetes.io/name": "kafka", "app.kubernetes.io/instance": "other"}
    ),
    "prometheus": Source("prometheus", {"app.kubernetes.io/name": "prometheus"}, namespace="monitoring"),
    "prometheus-here": Source("prometheus-here", {"app.kubernetes.io/name": "prometheus"}),
    "outside": Source("outside", None),
}
#: Per port name, which of OTHERS get in (Kafka's own pods are added where the rule says).
EXPECTED = {
    "controller": set(),
    "broker": {"client"},
    "external": set(OTHERS),
    "metrics": {"prometheus"},
}
KAFKA_PODS_ALLOWED = {"controller": True, "broker": True, "external": True, "metrics": False}


@pytest.fixture(params=POLICY_RENDERS)
def with_policy(request: pytest.FixtureRequest, rendered: dict[str, Rendered]) -> Rendered:
    """Each render with the network-policy component."""
    return rendered[request.param]


def test_the_policy_selects_every_kafka_pod_and_no_client(with_policy: Rendered) -> None:
    """One NetworkPolicy, ingress only, in the namespace; its podSelector matches each
    StatefulSet's pods (brokers and controllers) and none of the client or other pods."""
    (policy,) = with_policy.all("NetworkPolicy")
    assert policy["metadata"]["namespace"] == NAMESPACE
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    for sts in with_policy.all("StatefulSet"):
        assert selector_matches(policy["spec"]["podSelector"], template_labels(sts)), sts["metadata"]["name"]
    for source in OTHERS.values():
        if source.labels is not None:
            assert not selector_matches(policy["spec"]["podSelector"], source.labels), source.name


def test_each_port_admits_exactly_whom_it_means(with_policy: Rendered) -> None:
    """For every container port of every Kafka pod: this cluster's pods reach the controller,
    broker and external ports (not metrics); of the others exactly EXPECTED[port] get in."""
    policies = with_policy.all("NetworkPolicy")
    checked = set()
    for pod in with_policy.all("StatefulSet"):
        for port in container(pod)["ports"]:
            name = port["name"]
            assert name in EXPECTED, f"{name}: a port the policy test does not know"
            where = (pod["metadata"]["name"], name)
            for source in kafka_sources(with_policy):
                assert admitted(policies, pod, name, source) is KAFKA_PODS_ALLOWED[name], (*where, source)
            got = {key for key, source in OTHERS.items() if admitted(policies, pod, name, source)}
            assert got == EXPECTED[name], where
            checked.add(name)
    external = {"external"} if "external" in with_policy.name else set()
    assert checked == {"controller", "broker", "metrics", *external}


def test_without_the_component_nothing_is_restricted(rendered: dict[str, Rendered]) -> None:
    """The evaluation is not vacuous: the same pods and sources without the component are all
    let in (no policy selects them), and with it a client without the label is not."""
    plain = rendered["dedicated-controllers"]
    assert not plain.all("NetworkPolicy")
    broker = plain.get("StatefulSet", "kafka")
    assert admitted([], broker, "broker", OTHERS["no-label"])
    policies = rendered["network-policy+dedicated-controllers"].all("NetworkPolicy")
    assert not admitted(policies, broker, "broker", OTHERS["no-label"])
    assert admitted(policies, broker, "broker", OTHERS["client"])


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({}, {"a": "1"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"b": "1"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": "1"}, False),
        (None, {"a": "1"}, False),
    ],
)
def test_selector_matching_follows_kubernetes(
    selector: Optional[Mapping[str, Any]], labels: Mapping[str, str], expected: bool
) -> None:
    """The label-selector evaluation the tests above rely on: {} selects all, matchLabels all of
    them, the four expression operators, and an absent selector nothing."""
    assert selector_matches(selector, labels) is expected
