"""k8s/components/metrics: the ServiceMonitor selects the headless Service's metrics port, and the
dashboard it ships is the one the real-Kafka test checks (tests/kafka/test_kafka_metrics.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPONENT = REPO / "k8s" / "components" / "metrics"
BASE = REPO / "k8s" / "base" / "kafka.yaml"


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def service_monitor() -> dict[str, Any]:
    (monitor,) = documents(COMPONENT / "servicemonitor.yaml")
    return monitor


def selected_services() -> list[dict[str, Any]]:
    """The base's Services whose labels the ServiceMonitor's selector matches."""
    wanted = service_monitor()["spec"]["selector"]["matchLabels"].items()
    return [d for d in documents(BASE) if d["kind"] == "Service"
            and all(d["metadata"].get("labels", {}).get(k) == v for k, v in wanted)]


def test_the_service_monitor_scrapes_the_metrics_port() -> None:
    """A monitoring.coreos.com/v1 ServiceMonitor in the manifests' namespace, port "metrics", /metrics."""
    monitor = service_monitor()
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["kind"] == "ServiceMonitor"
    assert monitor["metadata"]["namespace"] == "kafka-kraft"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "metrics"
    assert endpoint["path"] == "/metrics"
    assert "namespaceSelector" not in monitor["spec"]  # its own namespace, whatever an overlay names it


def test_the_selector_matches_the_headless_service() -> None:
    """The selector's labels are those of kafka-svc (every pod); kafka-client carries the same ones."""
    names = sorted(s["metadata"]["name"] for s in selected_services())
    assert names == ["kafka-client", "kafka-svc"]


def test_only_the_headless_service_has_a_metrics_port_on_the_container_port() -> None:
    """Exactly kafka-svc has a port named metrics, 9404, targeting the container port named metrics."""
    with_port = [s for s in selected_services() if any(p["name"] == "metrics" for p in s["spec"]["ports"])]
    assert [s["metadata"]["name"] for s in with_port] == ["kafka-svc"]
    (port,) = [p for p in with_port[0]["spec"]["ports"] if p["name"] == "metrics"]
    assert (port["port"], port["targetPort"]) == (9404, "metrics")
    (statefulset,) = [d for d in documents(BASE) if d["kind"] == "StatefulSet"]
    (container,) = [c for c in statefulset["spec"]["template"]["spec"]["containers"] if c["name"] == "kafka"]
    assert {"name": "metrics", "containerPort": 9404, "protocol": "TCP"} in container["ports"]


def test_the_dashboard_config_map_is_the_dashboard_file() -> None:
    """The component's ConfigMap generator ships grafana-dashboard.json, labelled for Grafana's sidecar."""
    kustomization = yaml.safe_load((COMPONENT / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Component"
    assert kustomization["resources"] == ["servicemonitor.yaml"]
    (generator,) = kustomization["configMapGenerator"]
    assert generator["files"] == ["kafka-kraft.json=grafana-dashboard.json"]
    assert generator["options"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads((COMPONENT / "grafana-dashboard.json").read_text())
    assert dashboard["uid"] == "kraft-entrypoint-kafka"
    assert len(dashboard["panels"]) > 10
