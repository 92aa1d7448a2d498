#!/usr/bin/env bash
# Installs what pxstream's demo and tests need beyond the Rust toolchain: the tansu Kafka-protocol broker,
# built from crates.io into .tools/ (about 7 minutes on 2 cores, once). Skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

TANSU_VERSION="0.6.0"
if [ -n "${PXSTREAM_TANSU:-}" ] && [ -x "${PXSTREAM_TANSU}" ]; then
  echo "[setup] using tansu at ${PXSTREAM_TANSU}"
  exit 0
fi
if [ -x .tools/bin/tansu ] && .tools/bin/tansu --version 2>/dev/null | grep -q "${TANSU_VERSION}"; then
  echo "[setup] tansu ${TANSU_VERSION} already installed in .tools/bin"
  exit 0
fi
echo "[setup] installing tansu ${TANSU_VERSION} (Kafka-compatible broker) into .tools/ — this takes a few minutes"
# dynostore is the storage behind memory://, which the demo and the tests use.
cargo install tansu --version "${TANSU_VERSION}" --features dynostore --root .tools
.tools/bin/tansu --version
