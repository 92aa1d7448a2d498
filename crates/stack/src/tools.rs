//! Finding the executables a stack runs: pxstream's own binaries next to the current one, and tansu.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// A pxstream binary (`pxstream-ingest`, `px-sim`, ...). Looked up in `PXSTREAM_BIN_DIR`, then next to the
/// running executable and its parent (test binaries live in `target/<profile>/deps`).
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("PXSTREAM_BIN_DIR") {
        candidates.push(PathBuf::from(dir));
    }
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        candidates.push(dir.to_path_buf());
        if let Some(parent) = dir.parent() {
            candidates.push(parent.to_path_buf());
        }
    }
    candidates
        .iter()
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .with_context(|| {
            format!(
                "{name} not found (looked in {candidates:?}); build it with `cargo build --bins`"
            )
        })
}

/// The tansu broker: `PXSTREAM_TANSU`, then `.tools/bin/tansu` in the workspace (where the setup script
/// installs it), then `PATH`.
pub fn tansu() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("PXSTREAM_TANSU") {
        return Ok(PathBuf::from(path));
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let local = workspace.join(".tools/bin/tansu");
    if local.is_file() {
        return Ok(local);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("tansu"))
        .find(|path| path.is_file())
        .context("tansu not found: run scripts/setup.sh, or set PXSTREAM_TANSU to its path")
}

/// A port that was free a moment ago on loopback.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}
