#!/usr/bin/env bash
# Compiles the mock Kafka broker (librdkafka's mock cluster) next to its source.
# Rebuilds only when the source is newer than the binary.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
src="$dir/mock-kafka.c"
bin="$dir/mock-kafka"
if [[ -x "$bin" && "$bin" -nt "$src" ]]; then
  exit 0
fi
# pkg-config finds non-default prefixes (e.g. Homebrew); plain -lrdkafka otherwise.
flags="$(pkg-config --cflags --libs rdkafka 2>/dev/null || echo -lrdkafka)"
# shellcheck disable=SC2086
cc -O2 -Wall -o "$bin" "$src" $flags
echo "built $bin"
