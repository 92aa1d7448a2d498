#!/usr/bin/env bash
# The main job: builds pxstream, installs the broker if needed, runs the whole pipeline on a data set and
# prints a report. All arguments go to pxstream-demo (see --help): --exports, --activation, --expected, --keep.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "[demo] building pxstream (release)"
cargo build --release --bins
export PXSTREAM_BIN_DIR="$PWD/target/release"
exec target/release/pxstream-demo "$@"
