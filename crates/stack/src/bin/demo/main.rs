//! `pxstream-demo`: the main job, end to end on one machine. Starts a broker, the PX simulator and the three
//! services as separate processes, loads a data set of AEP exports, waits until everything is delivered,
//! prints a report and checks PX's final state against the state the data implies.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use pxstream_core::config::ActivationFile;
use pxstream_stack::check::Expected;
use pxstream_stack::config_file::DemoAuth;
use pxstream_stack::implied::implied_state;
use pxstream_stack::stack::read_lines;
use pxstream_stack::{Stack, StackOptions};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Runs the pxstream pipeline end to end on a data set and checks PX's final state"
)]
struct Args {
    /// AEP exports, one JSON record per line. Default: the bundled data set, generated deterministically.
    #[arg(long, requires = "activation")]
    exports: Option<PathBuf>,
    /// The activation (`activation.json` format: destination, mapping rule, audiences).
    #[arg(long)]
    activation: Option<PathBuf>,
    /// The state PX must end in (`expected.json` format). Without it: the bundled set's own file, or for
    /// `--exports` the state the records imply (folded in one pass, independent of the pipeline).
    #[arg(long)]
    expected: Option<PathBuf>,
    /// Leave everything running afterwards, for inspection, until Ctrl-C.
    #[arg(long)]
    keep: bool,
    /// Size of the bundled data set, in profiles.
    #[arg(long, default_value_t = 3000)]
    profiles: usize,
    /// Seed of the bundled data set.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Authenticate to PX with the OAuth password grant instead of an API key.
    #[arg(long)]
    oauth: bool,
    /// Working directory for logs, configuration and stores (wiped first).
    #[arg(long, default_value = ".run/demo")]
    dir: PathBuf,
    /// Give up if the pipeline has not settled after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
}

fn say(message: &str) {
    eprintln!("[demo] {message}");
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(error) => {
            eprintln!("[demo] failed: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<bool> {
    if args.dir.exists() {
        std::fs::remove_dir_all(&args.dir)
            .with_context(|| format!("clearing {}", args.dir.display()))?;
    }
    std::fs::create_dir_all(&args.dir)?;
    let (exports, activation_path, expected_path) = data_set(&args)?;
    let activation = ActivationFile::from_json(&std::fs::read_to_string(&activation_path)?)
        .with_context(|| format!("reading {}", activation_path.display()))?;
    let lines = read_lines(&exports)?;
    say(&format!(
        "{} export records from {}",
        lines.len(),
        exports.display()
    ));
    let expected = match &expected_path {
        Some(path) => Reference {
            expected: serde_json::from_str(&std::fs::read_to_string(path)?)
                .with_context(|| format!("reading {}", path.display()))?,
            source: format!("{}", path.display()),
        },
        None => Reference {
            expected: implied_state(&lines, &activation).expected,
            source: "the state the records imply, folded in one pass".into(),
        },
    };

    let options = StackOptions {
        dir: args.dir.clone(),
        activation,
        auth: if args.oauth {
            DemoAuth::OauthPassword
        } else {
            DemoAuth::ApiKey
        },
        partitions: 3,
    };
    let mut stack = Stack::start(options, say).await?;
    let started = Instant::now();
    let mut last = 0;
    stack
        .produce_exports(&lines, |sent| {
            if sent == lines.len() || sent - last >= lines.len() / 5 {
                say(&format!(
                    "loaded {sent}/{} records onto the exports topic",
                    lines.len()
                ));
                last = sent;
            }
        })
        .await?;
    let mut last_report = Instant::now() - Duration::from_secs(10);
    stack
        .wait_settled(
            Duration::from_secs(args.timeout_secs),
            |ingest, delivery| {
                if last_report.elapsed() >= Duration::from_secs(2) {
                    say(&format!(
                        "waiting: ingest lag {ingest}, delivery lag {delivery}"
                    ));
                    last_report = Instant::now();
                }
            },
        )
        .await?;
    let elapsed = started.elapsed();
    let ok = report(&stack, lines.len(), &expected, elapsed).await?;

    if args.keep {
        say(&format!(
            "everything keeps running (Ctrl-C stops it): PX simulator {}/__sim/state, config {}, logs {}",
            stack.endpoints.px_base_url,
            stack.config_path.display(),
            stack.logs_dir().display()
        ));
        tokio::signal::ctrl_c().await?;
    }
    say("stopping");
    stack.stop().await;
    Ok(ok)
}

/// The data set to run: the user's files, or the bundled one generated deterministically from a seed.
fn data_set(args: &Args) -> anyhow::Result<(PathBuf, PathBuf, Option<PathBuf>)> {
    if let Some(exports) = &args.exports {
        let activation = args
            .activation
            .clone()
            .context("--exports needs --activation")?;
        return Ok((exports.clone(), activation, args.expected.clone()));
    }
    let dir = args.dir.join("data-set");
    let config = pxstream_datagen::GenConfig {
        profiles: args.profiles,
        seed: args.seed,
        ..Default::default()
    };
    config.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    say(&format!(
        "generating the bundled data set ({} profiles, seed {})",
        args.profiles, args.seed
    ));
    pxstream_datagen::generate(&config).write_to(&dir)?;
    let activation = args
        .activation
        .clone()
        .unwrap_or_else(|| dir.join("activation.json"));
    let expected = args
        .expected
        .clone()
        .or_else(|| Some(dir.join("expected.json")));
    Ok((dir.join("exports.jsonl"), activation, expected))
}

/// The state PX must end in, and where it comes from.
struct Reference {
    expected: Expected,
    source: String,
}

async fn report(
    stack: &Stack,
    records: usize,
    reference: &Reference,
    elapsed: Duration,
) -> anyhow::Result<bool> {
    let ingest = stack.metrics("ingest").await?;
    let delivery = stack.metrics("delivery").await?;
    let mapping = stack.metrics("mapping").await?;
    let px = stack.px_state().await?;
    let changes_total =
        |outcome| delivery.sum("pxstream_delivery_changes_total", &[("outcome", outcome)]);
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line("pxstream demo report".into());
    line(format!("  records produced            {records}"));
    line(format!(
        "  records read                {}",
        ingest.sum("pxstream_ingest_records_total", &[])
    ));
    line(format!(
        "  custom-upload entries       {} (refused, never forwarded)",
        ingest.sum("pxstream_ingest_custom_upload_entries_total", &[])
    ));
    line(format!(
        "  dead-lettered records       {} (dead-letter topic holds {})",
        ingest.sum(
            "pxstream_ingest_records_total",
            &[("outcome", "dead_lettered")]
        ) + changes_total("dead_lettered"),
        stack.dead_letter_count()?
    ));
    line(format!(
        "  changes emitted by ingest   {}",
        ingest.sum("pxstream_ingest_changes_emitted_total", &[])
    ));
    line(format!(
        "  changes still held          {} (no PX user resolved yet)",
        mapping.sum("pxstream_mapping_held_changes", &[])
    ));
    line(format!(
        "  changes sent to PX          {} (stale or duplicate dropped: {}, no-op remembered: {})",
        changes_total("sent"),
        changes_total("stale"),
        changes_total("remembered")
    ));
    line(format!(
        "  PX calls                    {} (update_membership {}, metadata {}, token {})",
        px.requests_total, px.membership_calls, px.metadata_calls, px.token_calls
    ));
    line(format!(
        "  elapsed                     {:.1} s",
        elapsed.as_secs_f64()
    ));
    line("  members per segment:".into());
    for (audience, name) in &px.names {
        let count = px.members.get(audience).map_or(0, |m| m.len());
        line(format!("    {count:>6}  {name} ({audience})"));
    }
    let differences = px.differences(&reference.expected);
    let verdict = if differences.is_empty() { "yes" } else { "NO" };
    line(format!(
        "  PX final state equals the expected state: {verdict} (expected: {})",
        reference.source
    ));
    for difference in &differences {
        line(format!("    - {difference}"));
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(differences.is_empty())
}
