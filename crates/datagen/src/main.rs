//! `pxstream-datagen`: writes a generated AEP profile-export data set in the fixture's four files.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use pxstream_datagen::{GenConfig, generate};

/// Generate a deterministic AEP profile-export data set (exports.jsonl, activation.json,
/// audiences.json, expected.json).
#[derive(Debug, Parser)]
#[command(name = "pxstream-datagen", version)]
struct Args {
    /// Directory to write the four files into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Number of distinct profiles.
    #[arg(long, default_value_t = GenConfig::default().profiles)]
    profiles: usize,
    /// Number of audiences, including the one custom upload (at least 3).
    #[arg(long, default_value_t = GenConfig::default().audiences)]
    audiences: usize,
    /// Seed: the same arguments give byte-identical files.
    #[arg(long, default_value_t = GenConfig::default().seed)]
    seed: u64,
    /// Share of Segmentation Service audiences activated to PX.
    #[arg(long, default_value_t = GenConfig::default().activated_share)]
    activated_share: f64,
    /// Chance that a record is delivered twice.
    #[arg(long, default_value_t = GenConfig::default().duplicate_rate)]
    duplicate_rate: f64,
    /// Chance that a record arrives late, after newer snapshots of its profile.
    #[arg(long, default_value_t = GenConfig::default().late_rate)]
    late_rate: f64,
    /// Chance that a record of a multi-record profile carries only ECIDs.
    #[arg(long, default_value_t = GenConfig::default().ecid_only_rate)]
    ecid_only_rate: f64,
    /// Chance that a qualified membership later exits.
    #[arg(long, default_value_t = GenConfig::default().exit_rate)]
    exit_rate: f64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cfg = GenConfig {
        seed: args.seed,
        profiles: args.profiles,
        audiences: args.audiences,
        activated_share: args.activated_share,
        duplicate_rate: args.duplicate_rate,
        late_rate: args.late_rate,
        ecid_only_rate: args.ecid_only_rate,
        exit_rate: args.exit_rate,
        ..GenConfig::default()
    };
    cfg.validate()?;

    eprintln!(
        "generating {} profiles, {} audiences, seed {}",
        cfg.profiles, cfg.audiences, cfg.seed
    );
    let started = Instant::now();
    let data = generate(&cfg);
    let generated = started.elapsed();
    data.write_to(&args.out)
        .with_context(|| format!("writing data set to {}", args.out.display()))?;
    eprintln!("{}", data.stats);
    eprintln!(
        "wrote {} in {:.2?} (generation {:.2?})",
        args.out.display(),
        started.elapsed(),
        generated
    );
    Ok(())
}
