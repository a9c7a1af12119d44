"""A pod of our manifests, with everything Kubernetes and the image put in its environment (the
Services' service links, the kubernetes Service, the image's ENV), has nothing that the
entrypoint takes for a typo: no variable near one of ours, no KAFKA_CFG_* Kafka does not define."""

from __future__ import annotations

from pathlib import Path

import pytest

from kraft_entrypoint import installation, typos
from kraft_entrypoint.fields import parse_overrides
from kraft_entrypoint.kafka_versions import KafkaVersion

from .support import Obj, Rendered, template_labels
from .test_pods_dry_run import PodCase, pod_cases, pod_environment

#: What the image (docker/Dockerfile ENV, its base image) and the kubelet give every container.
IMAGE_AND_KUBELET = {
    "KAFKA_HOME": "/opt/kafka",
    "KRAFT_CONFIG": "/var/lib/kafka/config/server.properties",
    "LOG_DIR": "/var/lib/kafka/logs",
    "PATH": "/opt/kafka/bin:/usr/local/bin:/usr/bin:/bin",
    "JAVA_HOME": "/usr/local/openjdk-11",
    "JAVA_VERSION": "11.0.16",
    "LANG": "C.UTF-8",
    "HOME": "/",
    "HOSTNAME": "kafka-0",
}


def service_links(name: str, cluster_ip: str, ports: list[Obj]) -> dict[str, str]:
    """The variables the kubelet injects for a Service (enableServiceLinks, the default)."""
    prefix = name.upper().replace("-", "_")
    first = ports[0]
    env = {
        f"{prefix}_SERVICE_HOST": cluster_ip,
        f"{prefix}_SERVICE_PORT": str(first["port"]),
        f"{prefix}_PORT": f"{first.get('protocol', 'TCP').lower()}://{cluster_ip}:{first['port']}",
    }
    for port in ports:
        protocol = port.get("protocol", "TCP")
        if "name" in port:
            env[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(port["port"])
        base = f"{prefix}_PORT_{port['port']}_{protocol}"
        env[base] = f"{protocol.lower()}://{cluster_ip}:{port['port']}"
        env.update(
            {f"{base}_PROTO": protocol.lower(), f"{base}_PORT": str(port["port"]), f"{base}_ADDR": cluster_ip}
        )
    return env


def kubernetes_environment(out: Rendered) -> dict[str, str]:
    """Service links of every Service of the overlay (headless ones too, to be safe) and of the
    API server's Service ``kubernetes``."""
    env = service_links("kubernetes", "10.96.0.1", [{"name": "https", "port": 443}])
    for number, service in enumerate(out.all("Service"), 10):
        env.update(service_links(service["metadata"]["name"], f"10.96.0.{number}", service["spec"]["ports"]))
    return env


@pytest.mark.parametrize("case", list(pod_cases()), ids=str)
def test_pod_environment_has_no_typo(case: PodCase, rendered: dict[str, Rendered], tmp_path: Path) -> None:
    """No warning for any variable of the pod, nor for the KAFKA_CFG_* it sets, on its Kafka version."""
    out = rendered[case.overlay]
    sts = out.get("StatefulSet", case.statefulset)
    env = {**IMAGE_AND_KUBELET, **kubernetes_environment(out), **pod_environment(out, sts, case.ordinal)}
    assert any(key.endswith("_SERVICE_HOST") for key in env)
    assert typos.unknown_variables(env, typos.our_variables()) == ()
    version = KafkaVersion.parse(template_labels(sts)["app.kubernetes.io/version"])
    release, names = installation.config_names(version)
    assert release is not None
    overrides = parse_overrides(env)
    assert overrides, "the manifests set KAFKA_CFG_* overrides; this test must see them"
    assert typos.unknown_overrides(overrides, names, frozenset(), str(release)) == ()
