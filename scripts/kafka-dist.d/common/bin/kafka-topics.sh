#!/bin/sh
# Generated from scripts/kafka-dist.d: @CLASS@ is this version's class (kafka-dist.d/tools.txt).
exec "$(dirname "$0")/kafka-run-class.sh" @CLASS@ "$@"
