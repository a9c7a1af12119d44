"""Container entrypoint for Kafka in KRaft mode (3.3.2 by default, 3.3 to 4.x) as one pod of a
Kubernetes StatefulSet.

The modules, as the pipeline runs them:

- inputs: options (the table of variables and flags), fields, layout, settings; installation and
  kafka_versions (what the installed Kafka can do);
- identity: cluster_id, topology, security, rack;
- plan: plan, commands (pure: no I/O, no os.environ in anything above);
- effects: cluster_id_store, credentials, properties, files, storage, cds, launch;
- start: start (the sequence; reads the environment once), cli (the command line, exit codes);
- node_zone: the rack component's init container (python -m kraft_entrypoint.node_zone FILE).
"""
