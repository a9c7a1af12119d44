#!/bin/sh
# Starts a Kafka server: kafka-server-start.sh [-daemon] server.properties [--override property=value]*
# The JVM replaces this shell (exec), so a container's PID 1 stays PID 1 and gets SIGTERM.
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] server.properties [--override property=value]*" >&2
  exit 1
fi
base_dir=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "$KAFKA_LOG4J_OPTS" ]; then
  export KAFKA_LOG4J_OPTS="-Dlog4j.configuration=file:$base_dir/config/log4j.properties"
fi
if [ -z "$KAFKA_HEAP_OPTS" ]; then
  export KAFKA_HEAP_OPTS="-Xmx1G -Xms1G"
fi

EXTRA_ARGS=${EXTRA_ARGS-'-name kafkaServer -loggc'}
if [ "$1" = "-daemon" ]; then
  EXTRA_ARGS="-daemon $EXTRA_ARGS"
  shift
fi

# shellcheck disable=SC2086
exec "$base_dir/bin/kafka-run-class.sh" $EXTRA_ARGS kafka.Kafka "$@"
