#!/usr/bin/env bash
# All the tests: installs the broker if needed, checks formatting and lints, then runs every test —
# unit tests and end-to-end tests against real processes (broker, PX simulator, the three services).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "[test] formatting"
cargo fmt --all -- --check
echo "[test] lints"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "[test] building the service binaries the end-to-end tests start"
cargo build --workspace --bins --quiet
export PXSTREAM_BIN_DIR="$PWD/target/debug"
echo "[test] running the tests"
cargo test --workspace -- --test-threads 2
