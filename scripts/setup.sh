#!/usr/bin/env bash
# Installs what pxstream's demo and tests need beyond the Rust toolchain: the tansu Kafka-protocol broker,
# built from crates.io into .tools/ (about 10 minutes on 2 cores, once). Skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

TANSU_VERSION="0.6.0"
# libsql is the storage behind sqlite://, which the demo and the tests use (see crates/stack/src/broker.rs
# for why not memory://).
TANSU_FEATURES="libsql"
# librdkafka is built with TLS (SASL_SSL, as Azure Event Hubs' Kafka endpoint needs) against the system's
# OpenSSL: say so clearly rather than fail deep inside a build script.
if ! pkg-config --exists openssl 2>/dev/null; then
  echo "[setup] OpenSSL development files are missing: install them first (Debian/Ubuntu: apt-get install libssl-dev pkg-config)" >&2
  exit 1
fi
if [ -n "${PXSTREAM_TANSU:-}" ] && [ -x "${PXSTREAM_TANSU}" ]; then
  echo "[setup] using tansu at ${PXSTREAM_TANSU}"
  exit 0
fi
wanted="${TANSU_VERSION} ${TANSU_FEATURES}"
if [ -x .tools/bin/tansu ] && [ "$(cat .tools/tansu.build 2>/dev/null)" = "${wanted}" ]; then
  echo "[setup] tansu ${TANSU_VERSION} (${TANSU_FEATURES}) already installed in .tools/bin"
  exit 0
fi
echo "[setup] installing tansu ${TANSU_VERSION} (Kafka-compatible broker) into .tools/ — this takes about 10 minutes, once"
cargo install tansu --version "${TANSU_VERSION}" --features "${TANSU_FEATURES}" --root .tools --force
echo "${wanted}" > .tools/tansu.build
.tools/bin/tansu --version
