//! `pxstream-demo`: the main job, end to end on one machine. Starts a broker, the PX simulator and the three
//! services as separate processes, loads a data set of AEP exports, waits until everything is delivered,
//! prints a report and checks PX's final state against the state the data implies.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use pxstream_core::config::ActivationFile;
use pxstream_stack::config_file::DemoAuth;
use pxstream_stack::exports_file::{ExportLine, split_lines};
use pxstream_stack::implied::implied_state;
use pxstream_stack::shutdown::{Signals, StopSignal};
use pxstream_stack::{Stack, StackOptions, workdir};

use crate::report::{Reference, report};

mod report;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Runs the pxstream pipeline end to end on a data set and checks PX's final state"
)]
struct Args {
    /// AEP exports, one JSON record per line. Default: the bundled data set, generated deterministically.
    #[arg(long, requires = "activation")]
    exports: Option<PathBuf>,
    /// The activation (`activation.json` format: destination, mapping rule, audiences). Goes with
    /// `--exports`: the bundled data set has its own, which its expected state depends on.
    #[arg(long, requires = "exports")]
    activation: Option<PathBuf>,
    /// The state PX must end in (`expected.json` format). Without it: the bundled set's own file, or for
    /// `--exports` the state the records imply (folded in one pass, independent of the pipeline).
    #[arg(long)]
    expected: Option<PathBuf>,
    /// Leave everything running afterwards, for inspection, until Ctrl-C (or SIGTERM, SIGHUP).
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
    /// Working directory for logs, configuration and stores. Wiped first, so it must be missing, empty or
    /// the directory of a previous demo run (which holds a `.pxstream-demo` file); anything else is refused.
    #[arg(long, default_value = ".run/demo")]
    dir: PathBuf,
    /// Give up if the pipeline has not settled after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
}

fn say(message: &str) {
    eprintln!("[demo] {message}");
}

/// How many records not loaded, or members that differ, are listed by name; the rest are only counted.
const LISTED: usize = 10;

/// How a run ended, short of an error.
enum Outcome {
    /// The pipeline settled: whether PX's state is the expected one.
    Verdict(bool),
    /// A signal stopped the run before it had a verdict.
    Stopped(StopSignal),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let outcome = match Signals::install() {
        Ok(mut signals) => run(args, &mut signals).await,
        Err(error) => Err(anyhow::Error::new(error).context("handling signals")),
    };
    match outcome {
        Ok(Outcome::Verdict(true)) => std::process::ExitCode::SUCCESS,
        Ok(Outcome::Verdict(false)) => std::process::ExitCode::from(1),
        Ok(Outcome::Stopped(signal)) => std::process::ExitCode::from(signal.exit_code()),
        Err(error) => {
            eprintln!("[demo] failed: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Runs the demo. Every signal is acted on by stopping what was started: gracefully, or at once when a
/// second signal comes while stopping.
async fn run(args: Args, signals: &mut Signals) -> anyhow::Result<Outcome> {
    let inputs = Inputs::load(&args)?;
    workdir::prepare(&args.dir)?;
    if let Some(data_set) = &inputs.generated {
        let dir = args.dir.join("data-set");
        data_set
            .write_to(&dir)
            .with_context(|| format!("writing the data set to {}", dir.display()))?;
    }
    say(&format!(
        "{} export records from {}",
        inputs.lines.len(),
        inputs.exports
    ));

    let options = StackOptions {
        dir: args.dir.clone(),
        activation: inputs.activation.clone(),
        auth: if args.oauth {
            DemoAuth::OauthPassword
        } else {
            DemoAuth::ApiKey
        },
        partitions: 3,
    };
    let mut stack = tokio::select! {
        started = Stack::start(options, say) => started?,
        signal = signals.recv() => {
            // Dropping the half-started stack kills whatever it had started.
            say(&format!("{}: stopping", signal.name()));
            return Ok(Outcome::Stopped(signal));
        }
    };
    let outcome = tokio::select! {
        verdict = drive(&mut stack, &args, &inputs) => verdict.map(Outcome::Verdict),
        signal = signals.recv() => {
            say(&format!("{}: stopping before the pipeline has settled", signal.name()));
            Ok(Outcome::Stopped(signal))
        }
    };
    match outcome {
        Ok(Outcome::Verdict(_)) if args.keep => {
            say(&format!(
                "everything keeps running (Ctrl-C or kill stops it): PX simulator {}/__sim/state, config {}, logs {}",
                stack.endpoints.px_base_url,
                stack.config_path.display(),
                stack.logs_dir().display()
            ));
            let signal = signals.recv().await;
            say(&format!("{}: stopping", signal.name()));
        }
        Ok(Outcome::Stopped(_)) => {}
        _ => say("stopping"),
    }
    tokio::select! {
        () = stack.stop() => {}
        // Dropping what is left of the stack kills it.
        signal = signals.recv() => say(&format!("{} while stopping: killing what is still running", signal.name())),
    }
    outcome
}

/// Loads the records, waits until the pipeline has settled and prints the report: whether PX's state is
/// the expected one.
async fn drive(stack: &mut Stack, args: &Args, inputs: &Inputs) -> anyhow::Result<bool> {
    let lines = &inputs.lines;
    let started = Instant::now();
    let mut last = 0;
    let refused = stack
        .load_exports(lines, |sent| {
            if sent == lines.len() || sent - last >= lines.len() / 5 {
                say(&format!(
                    "loaded {sent}/{} records onto the exports topic",
                    lines.len()
                ));
                last = sent;
            }
        })
        .await?;
    for refusal in refused.iter().take(LISTED) {
        say(&format!(
            "line {} not loaded: {}",
            lines[refusal.index].number, refusal.reason
        ));
    }
    if refused.len() > LISTED {
        say(&format!("{} more lines not loaded", refused.len() - LISTED));
    }
    let not_loaded: Vec<usize> = refused.iter().map(|r| lines[r.index].number).collect();

    let implied;
    let reference = match &inputs.expected {
        Some(reference) => reference,
        None => {
            let refused: HashSet<usize> = refused.iter().map(|r| r.index).collect();
            let loaded: Vec<&ExportLine> = (0..lines.len())
                .filter(|i| !refused.contains(i))
                .map(|i| &lines[i])
                .collect();
            implied = Reference {
                expected: implied_state(&loaded, &inputs.activation).expected,
                source: "the state the loaded records imply, folded in one pass".into(),
            };
            &implied
        }
    };

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
    report(stack, lines.len(), &not_loaded, reference, elapsed).await
}

/// Everything a run reads from files, read and checked before the working directory is touched, so a
/// mistyped path cannot cost the previous run's directory.
struct Inputs {
    lines: Vec<ExportLine>,
    /// Where the records come from, for messages.
    exports: String,
    activation: ActivationFile,
    /// `None`: the state the loaded records imply.
    expected: Option<Reference>,
    /// The bundled data set, to be written into the working directory for inspection.
    generated: Option<pxstream_datagen::DataSet>,
}

impl Inputs {
    fn load(args: &Args) -> anyhow::Result<Self> {
        let activation = args
            .activation
            .as_deref()
            .map(read_activation)
            .transpose()?;
        let expected = args.expected.as_deref().map(read_expected).transpose()?;
        if let Some(exports) = &args.exports {
            let bytes = std::fs::read(exports)
                .with_context(|| format!("--exports {}", exports.display()))?;
            return Ok(Self {
                lines: split_lines(&bytes),
                exports: exports.display().to_string(),
                activation: activation.context("--exports needs --activation")?,
                expected,
                generated: None,
            });
        }
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
        let data_set = pxstream_datagen::generate(&config);
        let dir = args.dir.join("data-set");
        let activation = match activation {
            Some(activation) => activation,
            None => ActivationFile::from_json(&data_set.activation_json())
                .context("the generated activation.json")?,
        };
        let expected = match expected {
            Some(expected) => expected,
            None => Reference {
                expected: serde_json::from_str(&data_set.expected_json())
                    .context("the generated expected.json")?,
                source: dir.join("expected.json").display().to_string(),
            },
        };
        Ok(Self {
            lines: split_lines(data_set.exports_jsonl().as_bytes()),
            exports: dir.join("exports.jsonl").display().to_string(),
            activation,
            expected: Some(expected),
            generated: Some(data_set),
        })
    }
}

fn read_activation(path: &Path) -> anyhow::Result<ActivationFile> {
    let context = || format!("--activation {}", path.display());
    let text = std::fs::read_to_string(path).with_context(context)?;
    ActivationFile::from_json(&text).with_context(context)
}

fn read_expected(path: &Path) -> anyhow::Result<Reference> {
    let context = || format!("--expected {}", path.display());
    let text = std::fs::read_to_string(path).with_context(context)?;
    Ok(Reference {
        expected: serde_json::from_str(&text).with_context(context)?,
        source: path.display().to_string(),
    })
}
