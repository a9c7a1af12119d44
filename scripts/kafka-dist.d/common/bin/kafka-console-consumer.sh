#!/bin/sh
# Generated from scripts/kafka-dist.d: @CLASS@ is this version's class (kafka-dist.d/tools.txt).
if [ -z "$KAFKA_HEAP_OPTS" ]; then
  export KAFKA_HEAP_OPTS="-Xmx512M"
fi
exec "$(dirname "$0")/kafka-run-class.sh" @CLASS@ "$@"
