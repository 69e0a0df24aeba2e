#!/usr/bin/env bash
# What the test suites need besides node_modules: the mock Kafka broker, which is a small
# C program over librdkafka's mock cluster (there is no Kafka package to install and no
# Docker here), and Debian's Chromium for the dashboard's browser test (playwright-core
# drives it; no browser download). Idempotent: when both are there this returns at once.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

have_headers() { [[ -f /usr/include/librdkafka/rdkafka_mock.h ]] || echo '#include <librdkafka/rdkafka_mock.h>' | cc -E -x c - >/dev/null 2>&1; }

if ! command -v cc >/dev/null 2>&1; then
  echo "test-setup: no C compiler. Install one, e.g. 'apt-get install -y build-essential' (Debian/Ubuntu)." >&2
  exit 1
fi

if ! have_headers; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "test-setup: installing librdkafka-dev (for the mock Kafka broker)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q librdkafka-dev >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q librdkafka-dev >/dev/null; }
  else
    echo "test-setup: librdkafka headers are missing. Install them, then re-run:" >&2
    echo "  Debian/Ubuntu: sudo apt-get install -y librdkafka-dev" >&2
    echo "  Fedora:        sudo dnf install -y librdkafka-devel" >&2
    echo "  macOS:         brew install librdkafka" >&2
    exit 1
  fi
fi

bash "$root/scripts/mock-kafka/build.sh"

if [[ ! -x /usr/bin/chromium ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "test-setup: installing chromium (for the dashboard's browser test)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  else
    echo "test-setup: Chromium is missing (/usr/bin/chromium). Install it, then re-run:" >&2
    echo "  Debian/Ubuntu: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi
