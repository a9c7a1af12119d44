#!/usr/bin/env bash
# bench/peer_driver.sh: the start path of the official apache/kafka JVM image (3.8 and later; the
# image's CMD /etc/kafka/docker/run), written for the bench from the steps of the apache/kafka
# repository's docker/resources/common-scripts/{run,bash-config,configureDefaults,configure} and
# docker/jvm/launch, so that it runs outside the image on the same jars as the seed and us.
#
#   peer_driver.sh pod   what a StatefulSet pod of the image runs as its command: the image has no
#                        way to take the node id from the pod name, so the manifest's shell does it
#                        (KAFKA_NODE_ID=${HOSTNAME##*-}), then execs the image's run (below)
#   peer_driver.sh run [VAR=value...]
#                        the image's run, in one bash process as in the image (its configureDefaults,
#                        configure and launch are sourced there, here they are functions):
#     bash-config        set -o nounset -o errexit (xtrace with TRACE=true)
#     arguments          each VAR=value argument exported
#     user               echo "===> User"; id
#     configureDefaults  CLUSTER_ID defaults to the image's fixed 5L6g3nShT-eMCtK--X86sw (the only
#                        default left in the 3.8+ images)
#     configure          KRaft checks (CLUSTER_ID set; a controller-only node advertises nothing),
#                        KAFKA_LISTENERS derived from KAFKA_ADVERTISED_LISTENERS when unset, the final
#                        config directory writable; SSL and SASL listeners are NOT reproduced (their
#                        checks read credential files under /etc/kafka/secrets): exit 2 if asked
#     launch             JMX options and `hostname -i` as the image sets them; the storage CDS archive
#                        in KAFKA_JVM_PERFORMANCE_OPTS; ONE JVM: kafka-run-class.sh
#                        kafka.docker.KafkaDockerWrapper setup -D <defaults> -M <mounted> -F <final>,
#                        which writes server.properties and the log4j files from the KAFKA_* variables
#                        and then runs the storage tool's format in the same JVM, without
#                        --ignore-formatted: a restart fails "already formatted", which launch ignores
#                        (any other failure ends the start); then the server's CDS archive and
#                        exec kafka-server-start.sh <final>/server.properties
#
# The image's fixed paths are variables here (defaults: the image's):
#   PEER_OPT_KAFKA    /opt/kafka           the installation; the wrapper writes into its config/
#   PEER_DOCKER_DIR   /etc/kafka/docker    the image's default configs (--default-configs-dir)
#   PEER_MOUNTED_DIR  /mnt/shared/config   the user's mounted configs (--mounted-configs-dir)
# Exit: 0 never (the last step is an exec); 1 a failed check or setup; 2 an unknown mode or a listener
# kind this driver does not reproduce.

opt_kafka=${PEER_OPT_KAFKA:-/opt/kafka}
docker_dir=${PEER_DOCKER_DIR:-/etc/kafka/docker}
mounted_dir=${PEER_MOUNTED_DIR:-/mnt/shared/config}

die() { echo "$1"; exit "${2:-1}"; }

# configure's two helpers: a variable that must be non-empty, a path that must be writable.
require_set() { [ -n "${!1:-}" ] || die "$1 environment variable not set"; }
require_writable() { [ -w "$1" ] || die "$1 file not writable"; }

image_defaults() {
  echo "===> Setting default values of environment variables if not already set."
  if [ -z "${CLUSTER_ID:-}" ]; then
    echo "CLUSTER_ID not set. Setting it to default value: \"5L6g3nShT-eMCtK--X86sw\""
    export CLUSTER_ID=5L6g3nShT-eMCtK--X86sw
  fi
}

image_configure() {
  echo "===> Configuring ..."
  if [ -n "${KAFKA_PROCESS_ROLES:-}" ]; then
    echo "Running in KRaft mode..."
    require_set CLUSTER_ID
    if [ "$KAFKA_PROCESS_ROLES" = controller ]; then
      [ -z "${KAFKA_ADVERTISED_LISTENERS:-}" ] \
        || die "KAFKA_ADVERTISED_LISTENERS is not supported on a KRaft controller."
      unset KAFKA_ADVERTISED_LISTENERS
    fi
  fi
  if [ -z "${KAFKA_LISTENERS:-}" ] && [ "${KAFKA_PROCESS_ROLES:-}" != controller ] \
     && [ -n "${KAFKA_ADVERTISED_LISTENERS:-}" ]; then
    # every advertised host replaced by 0.0.0.0, the ports kept
    KAFKA_LISTENERS=$(sed -e 's|://[^:]*:|://0.0.0.0:|g' <<<"$KAFKA_ADVERTISED_LISTENERS")
    export KAFKA_LISTENERS
  fi
  require_writable "$opt_kafka/config/"
  case "${KAFKA_ADVERTISED_LISTENERS:-}" in
    *SSL://*|*SASL_*) die "peer_driver: SSL/SASL listeners are not reproduced (the bench pod is PLAINTEXT)" 2 ;;
  esac
}

image_launch() {
  echo "===> Launching ... "
  if [ -z "${KAFKA_JMX_OPTS:-}" ]; then
    export KAFKA_JMX_OPTS="-Dcom.sun.management.jmxremote=true -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false "
  fi
  KAFKA_JMX_HOSTNAME=${KAFKA_JMX_HOSTNAME:-$(hostname -i | cut -d" " -f1)}
  export KAFKA_JMX_HOSTNAME
  if [ -n "${KAFKA_JMX_PORT:-}" ]; then
    export JMX_PORT=$KAFKA_JMX_PORT
    KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Djava.rmi.server.hostname=$KAFKA_JMX_HOSTNAME"
    KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Dcom.sun.management.jmxremote.local.only=false"
    export KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Dcom.sun.management.jmxremote.rmi.port=$JMX_PORT -Dcom.sun.management.jmxremote.port=$JMX_PORT"
  fi

  local user_perf_opts=${KAFKA_JVM_PERFORMANCE_OPTS:-}
  export KAFKA_JVM_PERFORMANCE_OPTS="$user_perf_opts -XX:SharedArchiveFile=$opt_kafka/storage.jsa"

  echo "===> Using provided cluster id $CLUSTER_ID ..."
  local result
  if ! result=$("$opt_kafka/bin/kafka-run-class.sh" kafka.docker.KafkaDockerWrapper setup \
        --default-configs-dir "$docker_dir" \
        --mounted-configs-dir "$mounted_dir" \
        --final-configs-dir "$opt_kafka/config" 2>&1); then
    # the image's answer to a formatted volume: print the line, go on; anything else ends the start
    grep -i "already formatted" <<<"$result" || die "$result"
  fi

  export KAFKA_JVM_PERFORMANCE_OPTS="$user_perf_opts -XX:SharedArchiveFile=$opt_kafka/kafka.jsa"
  exec "$opt_kafka/bin/kafka-server-start.sh" "$opt_kafka/config/server.properties"
}

image_run() {
  set -o nounset -o errexit
  if [ "${TRACE:-}" = true ]; then set -o verbose -o xtrace; fi
  if [ $# -ne 0 ]; then
    echo "===> Overriding env params with args ..."
    local assignment
    for assignment in "$@"; do export "${assignment?}"; done
  fi
  echo "===> User"
  id
  image_defaults
  image_configure
  image_launch
}

mode=${1:-}
[ $# -eq 0 ] || shift
case "$mode" in
  pod)
    KAFKA_NODE_ID=${HOSTNAME##*-}
    export KAFKA_NODE_ID
    exec "$0" run "$@" ;;
  run) image_run "$@" ;;
  *) echo "usage: $0 pod|run [VAR=value...]" >&2; exit 2 ;;
esac
