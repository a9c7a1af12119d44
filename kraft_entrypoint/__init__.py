"""Container entrypoint for Kafka 3.3 in KRaft mode as one pod of a Kubernetes StatefulSet.

Pipeline: settings -> topology -> plan (pure), then cluster_id_store, properties,
storage, launch (side effects), driven by cli.
"""
