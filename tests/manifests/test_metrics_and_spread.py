"""Every manifest's Kafka pods serve Prometheus metrics the usual way (METRICS=prometheus, the
container port "metrics" on METRICS_PORT, the prometheus.io scrape annotations naming it, the
headless Service's port "metrics" that k8s/components/metrics scrapes) and spread over zones and
nodes. Checked on every rendered overlay and combination and on the two plain files
(k8s/kafka.yaml and k8s/kafka-shared-volume.yaml).

No container runs here (these tests are in the normal test command)."""

from __future__ import annotations

import pytest
import yaml

from .support import K8S, RENDERED, Rendered, container, literal_env, named_ports, statefulset_of

PLAIN = ("kafka.yaml", "kafka-shared-volume.yaml")


@pytest.fixture(params=[*RENDERED, *PLAIN])
def manifest(request: pytest.FixtureRequest, rendered: dict[str, Rendered]) -> Rendered:
    """Each rendered overlay and combination, and each plain manifest file, in turn."""
    name = request.param
    if name in rendered:
        return rendered[name]
    text = (K8S / name).read_text()
    return Rendered(name, text, [d for d in yaml.safe_load_all(text) if d])


def test_every_kafka_pod_serves_metrics_where_its_annotations_say(manifest: Rendered) -> None:
    """Each StatefulSet (brokers and controllers): METRICS=prometheus, port "metrics" =
    METRICS_PORT, and prometheus.io/scrape "true", /port the same port, /path /metrics."""
    sets = manifest.all("StatefulSet")
    assert sets
    for sts in sets:
        env = literal_env(sts)
        assert env["METRICS"] == "prometheus", sts["metadata"]["name"]
        port = int(env["METRICS_PORT"])
        assert named_ports(sts)["metrics"] == port
        assert {"name": "metrics", "containerPort": port, "protocol": "TCP"} in container(sts)["ports"]
        annotations = sts["spec"]["template"]["metadata"]["annotations"]
        assert annotations == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(port),
            "prometheus.io/path": "/metrics",
        }


def test_each_headless_service_publishes_the_metrics_port(manifest: Rendered) -> None:
    """The headless Service of every StatefulSet has port "metrics" on the pods' metrics port,
    targeting the container port by name; no other Service has one (kafka-client stays the
    clients' Service)."""
    headless = {s["spec"]["serviceName"] for s in manifest.all("StatefulSet")}
    for service in manifest.all("Service"):
        ports = [p for p in service["spec"]["ports"] if p["name"] == "metrics"]
        if service["metadata"]["name"] not in headless:
            assert not ports, service["metadata"]["name"]
            continue
        (port,) = ports
        wanted = {int(literal_env(s)["METRICS_PORT"]) for s in manifest.all("StatefulSet")}
        assert (port["port"], port["targetPort"], port["protocol"]) == (wanted.pop(), "metrics", "TCP")


def test_every_statefulset_spreads_its_own_pods_over_zones_and_nodes(manifest: Rendered) -> None:
    """Each StatefulSet's pods: maxSkew 1 over topology.kubernetes.io/zone and over
    kubernetes.io/hostname, ScheduleAnyway (a one-node cluster still schedules), each counting
    exactly that StatefulSet's pods (brokers and controllers apart in the dedicated layout)."""
    for sts in manifest.all("StatefulSet"):
        name = sts["metadata"]["name"]
        constraints = sts["spec"]["template"]["spec"]["topologySpreadConstraints"]
        keys = [c["topologyKey"] for c in constraints]
        assert keys == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"], name
        for constraint in constraints:
            assert constraint["maxSkew"] == 1, name
            assert constraint["whenUnsatisfiable"] == "ScheduleAnyway", name
            assert set(constraint["labelSelector"]) == {"matchLabels"}, name
            assert statefulset_of(manifest, constraint["labelSelector"]["matchLabels"]) == [name]
