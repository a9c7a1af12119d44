{{/*
Names. Every object is named after "kafka.fullname" (fullnameOverride, else the release name),
never after the chart, so `helm install kafka` gives the names of k8s/kafka.yaml. The limit
keeps <name>-controller-NN and the StatefulSet's controller-revision-hash label within 63.
*/}}
{{- define "kafka.fullname" -}}
{{- $name := default .Release.Name .Values.fullnameOverride -}}
{{- if gt (len $name) 40 -}}
{{- fail (printf "the name %q is longer than 40 characters: set fullnameOverride" $name) -}}
{{- end -}}
{{- $name -}}
{{- end -}}

{{- define "kafka.service" -}}{{ include "kafka.fullname" . }}-svc{{- end -}}
{{- define "kafka.controllerName" -}}{{ include "kafka.fullname" . }}-controller{{- end -}}

{{- define "kafka.clusterIdSecret" -}}
{{- default (printf "%s-cluster-id" (include "kafka.fullname" .)) .Values.existingClusterIdSecret -}}
{{- end -}}

{{- define "kafka.sharedClaim" -}}
{{- default (printf "%s-shared" (include "kafka.fullname" .)) .Values.persistence.shared.claimName -}}
{{- end -}}

{{- define "kafka.tlsSecret" -}}
{{- default (printf "%s-tls" (include "kafka.fullname" .)) .Values.tls.existingSecret -}}
{{- end -}}

{{/*
The SASL users Secret: an existing one, or <name>-sasl-users-<hash> where <hash> is what
kustomize's secretGenerator appends (sigs.k8s.io/kustomize/api/hasher: the first 10 hex digits
of the SHA-256 of the JSON {data, kind, name, type}, with 0 1 3 a e spelt g h k m t; "name" is
always empty there, since the hasher looks it up by a path it never finds). A new password
gives a new name, so the pods roll as they do with the secure overlay.
*/}}
{{- define "kafka.saslSecret" -}}
{{- if .Values.sasl.existingSecret -}}
{{- .Values.sasl.existingSecret -}}
{{- else -}}
{{- $name := printf "%s-sasl-users" (include "kafka.fullname" .) -}}
{{- $json := dict "kind" "Secret" "type" "Opaque" "name" "" "data" (include "kafka.saslData" . | fromYaml) | toJson -}}
{{- $hash := sha256sum $json | trunc 10 | replace "0" "g" | replace "1" "h" | replace "3" "k" | replace "a" "m" | replace "e" "t" -}}
{{- printf "%s-%s" $name $hash -}}
{{- end -}}
{{- end -}}

{{/* The SASL users as a Secret's data: user -> base64(password). */}}
{{- define "kafka.saslData" -}}
{{- range $user, $password := .Values.sasl.users }}
{{ $user }}: {{ toString $password | b64enc }}
{{- end }}
{{- end -}}

{{/* Selector labels: name and instance (and the component, where two StatefulSets differ). */}}
{{- define "kafka.selectorLabels" -}}
app.kubernetes.io/name: kafka
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of an object: include "kafka.labels" (list $ "broker"); "" leaves out the component. */}}
{{- define "kafka.labels" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{ include "kafka.selectorLabels" $root }}
{{- if $component }}
app.kubernetes.io/component: {{ $component }}
{{- end }}
app.kubernetes.io/part-of: kafka-kraft
{{- end -}}

{{/* Whether pods of <name> are brokers only. */}}
{{- define "kafka.dedicated" -}}
{{- if .Values.controllers.dedicated }}true{{ end -}}
{{- end -}}

{{/* The pod's security context, the same for every Kafka pod. */}}
{{- define "kafka.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "kafka.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
{{- end -}}

{{- define "kafka.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}

{{/* Environment shared by both StatefulSets: pod identity first. */}}
{{- define "kafka.identityEnv" -}}
- name: HOSTNAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: SERVICE
  value: {{ include "kafka.service" . }}
{{- if ne .Values.clusterDomain "cluster.local" }}
- name: CLUSTER_DOMAIN
  value: {{ .Values.clusterDomain }}
{{- end }}
{{- end -}}

{{- define "kafka.clusterIdEnv" -}}
- name: CLUSTER_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "kafka.clusterIdSecret" . }}
      key: CLUSTER_ID
- name: DATA_DIR
  value: /var/lib/kafka/data/kraft
{{- end -}}

{{/* TLS, SASL and ACL variables (k8s/components/secure), on every StatefulSet. */}}
{{- define "kafka.securityEnv" -}}
{{- if .Values.tls.enabled }}
- name: TLS_DIR
  value: /etc/kafka/tls
{{- end }}
{{- if .Values.sasl.enabled }}
- name: SASL_USERS_DIR
  value: /etc/kafka/sasl-users
- name: SASL_INTER_BROKER_USER
  value: {{ .Values.sasl.interBrokerUser }}
{{- if .Values.sasl.mechanism }}
- name: SASL_MECHANISM
  value: {{ .Values.sasl.mechanism }}
{{- end }}
{{- end }}
{{- if .Values.authorization.enabled }}
- name: AUTHORIZATION
  value: acl
{{- if .Values.authorization.superUsers }}
- name: SUPER_USERS
  value: {{ join "," .Values.authorization.superUsers }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The heap follows the container's memory limit (HEAP_PERCENT of it, SPEC "Memory"). */}}
{{- define "kafka.memoryEnv" -}}
- name: MEMORY_LIMIT  # the heap is HEAP_PERCENT (default 50) of the container's limit
  valueFrom:
    resourceFieldRef:
      resource: limits.memory
      divisor: '1'
{{- end -}}

{{/* METRICS=prometheus: the JMX exporter agent's /metrics on metrics.port (SPEC "Metrics"). */}}
{{- define "kafka.metricsEnv" -}}
{{- if .Values.metrics.enabled }}
- name: METRICS  # the Prometheus JMX exporter agent serves /metrics on {{ .Values.metrics.port }}
  value: prometheus
{{- if ne (int .Values.metrics.port) 9404 }}
- name: METRICS_PORT
  value: {{ .Values.metrics.port | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "kafka.metricsPort" -}}
{{- if .Values.metrics.enabled }}
- name: metrics  # METRICS_PORT: the Prometheus JMX exporter agent
  containerPort: {{ .Values.metrics.port }}
  protocol: TCP
{{- end }}
{{- end -}}

{{/* The usual scrape annotations, with metrics on. */}}
{{- define "kafka.podAnnotations" -}}
{{- if .Values.metrics.enabled }}
annotations:
  prometheus.io/scrape: "true"
  prometheus.io/port: {{ .Values.metrics.port | quote }}
  prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{- define "kafka.quorumEnv" -}}
{{- if ne .Values.quorum.mode "static" }}
- name: QUORUM
  value: {{ .Values.quorum.mode }}
{{- end }}
{{- end -}}

{{- define "kafka.securityMounts" -}}
{{- if .Values.tls.enabled }}
- name: tls
  mountPath: /etc/kafka/tls
  readOnly: true
{{- end }}
{{- if .Values.sasl.enabled }}
- name: sasl-users
  mountPath: /etc/kafka/sasl-users
  readOnly: true
{{- end }}
{{- end -}}

{{/* 288 = 0440: the owner and fsGroup 1000 read the Secrets, nobody else. */}}
{{- define "kafka.securityVolumes" -}}
{{- if .Values.tls.enabled }}
- name: tls
  secret:
    secretName: {{ include "kafka.tlsSecret" . }}
    defaultMode: 288
{{- end }}
{{- if .Values.sasl.enabled }}
- name: sasl-users
  secret:
    secretName: {{ include "kafka.saslSecret" . }}
    defaultMode: 288
{{- end }}
{{- end -}}

{{/* The writable directories of a read-only root filesystem. */}}
{{- define "kafka.scratchMounts" -}}
- name: config
  mountPath: /var/lib/kafka/config
- name: logs
  mountPath: /var/lib/kafka/logs
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "kafka.scratchVolumes" -}}
- name: config
  emptyDir:
    sizeLimit: 16Mi
- name: logs
  emptyDir:
    sizeLimit: 1Gi
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end -}}

{{/* include "kafka.antiAffinity" (list $ "preferred" (dict ...selector labels)) */}}
{{- define "kafka.antiAffinity" -}}
{{- $mode := index . 0 -}}
{{- $labels := index . 1 -}}
{{- if eq $mode "preferred" }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- $labels | nindent 14 }}
{{- else if ne $mode "none" }}
{{- fail (printf "podAntiAffinity must be preferred or none, not %q" $mode) }}
{{- end }}
{{- end -}}

{{/*
include "kafka.topologySpread" (list $ (selector labels)): one constraint per topologySpread key,
counting the pods the labels select (the StatefulSet's own).
*/}}
{{- define "kafka.topologySpread" -}}
{{- $spread := (index . 0).Values.topologySpread -}}
{{- $labels := index . 1 -}}
{{- if $spread.topologyKeys }}
topologySpreadConstraints:
  {{- range $spread.topologyKeys }}
  - maxSkew: {{ $spread.maxSkew }}
    topologyKey: {{ . }}
    whenUnsatisfiable: {{ $spread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- $labels | nindent 8 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* Values that would make a cluster that cannot start: refused at render time. */}}
{{- define "kafka.validate" -}}
{{- if not (has .Values.quorum.mode (list "static" "dynamic")) -}}
{{- fail (printf "quorum.mode must be static or dynamic, not %q" .Values.quorum.mode) -}}
{{- end -}}
{{- if and .Values.persistence.shared.enabled .Values.controllers.dedicated -}}
{{- fail "persistence.shared works with the combined layout only (controllers.dedicated: false)" -}}
{{- end -}}
{{- if .Values.controllers.dedicated -}}
{{- if gt (int .Values.quorum.voters) (int .Values.controllers.replicas) -}}
{{- fail "quorum.voters must not exceed controllers.replicas" -}}
{{- end -}}
{{- if ge (int .Values.quorum.voters) (int .Values.controllers.brokerIdOffset) -}}
{{- fail "quorum.voters must stay below controllers.brokerIdOffset (node ids would collide)" -}}
{{- end -}}
{{- else if gt (int .Values.quorum.voters) (int .Values.replicas) -}}
{{- fail "quorum.voters must not exceed replicas (the voters are pods 0..voters-1)" -}}
{{- end -}}
{{- if and .Values.sasl.enabled (not .Values.sasl.existingSecret) -}}
{{- if not (hasKey .Values.sasl.users .Values.sasl.interBrokerUser) -}}
{{- fail (printf "sasl.users needs the inter-broker user %q (or set sasl.existingSecret)" .Values.sasl.interBrokerUser) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.sasl.enabled (hasPrefix "SCRAM-" (toString .Values.sasl.mechanism)) (semverCompare "<3.5.0-0" (toString .Values.kafkaVersion)) -}}
{{- fail (printf "sasl.mechanism %s needs Kafka >= 3.5 (kafka-storage.sh format --add-scram); kafkaVersion is %s: use an image with Kafka 3.9.2 or 4.x and set kafkaVersion to it, or sasl.mechanism PLAIN" .Values.sasl.mechanism (toString .Values.kafkaVersion)) -}}
{{- end -}}
{{- if and .Values.authorization.enabled (not (or .Values.sasl.enabled .Values.tls.enabled)) -}}
{{- fail "authorization needs sasl or tls: ACLs on anonymous clients protect nothing" -}}
{{- end -}}
{{- if and .Values.external.enabled (not (has .Values.external.mode (list "nodePort" "host"))) -}}
{{- fail (printf "external.mode must be nodePort or host, not %q" .Values.external.mode) -}}
{{- end -}}
{{- if .Values.metrics.enabled -}}
{{- $taken := list 9092 9093 -}}
{{- if .Values.external.enabled }}{{ $taken = append $taken (int .Values.external.containerPort) }}{{ end -}}
{{- if has (int .Values.metrics.port) $taken -}}
{{- fail (printf "metrics.port %d is a listener's port (the entrypoint would exit 2): choose another, e.g. 9404" (int .Values.metrics.port)) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.external.enabled (eq .Values.external.mode "host") (not .Values.external.host) -}}
{{- fail "external.mode host needs external.host (e.g. kafka-{ordinal}.kafka.example.com)" -}}
{{- end -}}
{{- end -}}

{{/* Rack awareness (rack.*): whether the init container reads the node's zone. */}}
{{- define "kafka.rackInit" -}}
{{- if and .Values.rack.enabled (eq .Values.rack.source "initContainer") }}true{{ end -}}
{{- end -}}

{{/* The broker container's RACK_FILE (rack.*), first in its env as kustomize's patch puts it. */}}
{{- define "kafka.rackEnv" -}}
{{- if .Values.rack.enabled }}
{{- if include "kafka.rackInit" . }}
- name: RACK_FILE  # broker.rack = the node's zone, written by the init container
  value: /var/run/kafka-rack/zone
{{- else }}
- name: RACK_FILE  # broker.rack = the pod's zone label, copied from its node
  value: /etc/kafka/rack/zone
{{- end }}
{{- end }}
{{- end -}}

{{- define "kafka.rackMount" -}}
{{- if .Values.rack.enabled }}
- name: rack
  mountPath: {{ if include "kafka.rackInit" . }}/var/run/kafka-rack{{ else }}/etc/kafka/rack{{ end }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "kafka.rackVolume" -}}
{{- if .Values.rack.enabled }}
- name: rack
{{- if include "kafka.rackInit" . }}
  emptyDir:
    sizeLimit: 1Mi
{{- else }}
  downwardAPI:
    items:
      - path: zone
        fieldRef:
          fieldPath: metadata.labels['topology.kubernetes.io/zone']
{{- end }}
{{- end }}
{{- end -}}

{{/* The pod's service account and init container with rack.source=initContainer. */}}
{{- define "kafka.rackPod" -}}
{{- if include "kafka.rackInit" . }}
serviceAccountName: {{ include "kafka.fullname" . }}-rack
initContainers:
  - name: rack  # writes the node's zone to /var/run/kafka-rack/zone
    image: {{ include "kafka.image" . }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    command:
      - /opt/kraft-entrypoint/bin/python3
      - -m
      - kraft_entrypoint.node_zone
      - /var/run/kafka-rack/zone
    env:
      - name: NODE_NAME
        valueFrom:
          fieldRef:
            fieldPath: spec.nodeName
    resources:
      requests:
        cpu: 10m
        memory: 64Mi
      limits:
        memory: 64Mi
    securityContext:
      {{- include "kafka.containerSecurityContext" . | nindent 6 }}
    volumeMounts:
      - name: rack
        mountPath: /var/run/kafka-rack
{{- end }}
{{- end -}}
