"""The real Kubernetes of ``scripts/k8s`` for tests/k8s and the bench: ``cluster`` (kubectl,
namespaces with their volumes, the manifests as a user prepares them, waiting for Ready) and
``clients`` (Kafka's own tools in a client pod, producers that run across a roll, broker logs).
Both are re-exported here: ``from kraftlab import k8s as kh``."""

from kraftlab.k8s.clients import (
    CLIENT_POD,
    PRODUCER_PROPERTIES,
    BrokerLogs,
    Client,
    ProducerRun,
    ids,
    parse_producer_events,
    quorum_field,
)
from kraftlab.k8s.cluster import (
    DATA_DIR,
    EXAMPLE_CLUSTER_ID,
    K8S_SCRIPT,
    KAFKA_PORT,
    MANIFEST_IMAGE,
    MANIFESTS,
    REPO,
    REPORT,
    SCENARIO_LOCK,
    Namespace,
    Report,
    cluster_is_up,
    exec_in,
    is_root,
    k8s,
    kubectl,
    load_project_image,
    log,
    meta_properties,
    new_cluster_id,
    pod_ready,
    pod_uid,
    prepare_manifests,
    run,
    wait_ready,
)

__all__ = [
    "CLIENT_POD", "DATA_DIR", "EXAMPLE_CLUSTER_ID", "K8S_SCRIPT", "KAFKA_PORT", "MANIFESTS",
    "MANIFEST_IMAGE", "PRODUCER_PROPERTIES", "REPO", "REPORT", "SCENARIO_LOCK", "BrokerLogs", "Client",
    "Namespace", "ProducerRun", "Report", "cluster_is_up", "exec_in", "ids", "is_root", "k8s",
    "kubectl", "load_project_image", "log", "meta_properties", "new_cluster_id",
    "parse_producer_events", "pod_ready", "pod_uid", "prepare_manifests", "quorum_field", "run",
    "wait_ready",
]
