//! A child process owned by the stack: output goes to a log file, and it is killed when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::process::{Child, Command};

#[derive(Debug)]
pub struct Service {
    pub name: String,
    pub log: PathBuf,
    child: Child,
}

impl Service {
    pub fn spawn(name: &str, program: &Path, args: &[&str], logs: &Path) -> anyhow::Result<Self> {
        Self::spawn_in(name, program, args, logs, None, &[])
    }

    /// Like [`spawn`](Self::spawn), with `cwd` as the working directory when given, and `env` replacing
    /// those variables of the inherited environment.
    pub fn spawn_in(
        name: &str,
        program: &Path,
        args: &[&str],
        logs: &Path,
        cwd: Option<&Path>,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let log = logs.join(format!("{name}.log"));
        // Appended, so a restarted service keeps the log of its previous life.
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("opening {}", log.display()))?;
        // Absolute, so a working directory of its own cannot make a relative program path miss.
        let program = std::path::absolute(program)?;
        let mut command = Command::new(&program);
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {name} ({})", program.display()))?;
        Ok(Self {
            name: name.to_owned(),
            log,
            child,
        })
    }

    /// Fails if the process has already exited, quoting the end of its log.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            anyhow::bail!(
                "{} exited ({status}); last log lines:\n{}",
                self.name,
                self.log_tail(20)
            );
        }
        Ok(())
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Polls `url` until it answers 2xx, the process dies, or `timeout` passes.
    pub async fn wait_http_ok(&mut self, url: &str, timeout: Duration) -> anyhow::Result<()> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            self.ensure_running()?;
            if let Ok(response) = client.get(url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!(
                    "{} not ready at {url} after {timeout:?}; last log lines:\n{}",
                    self.name,
                    self.log_tail(20)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls until something accepts TCP connections on `port`.
    pub async fn wait_port(&mut self, port: u16, timeout: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            self.ensure_running()?;
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!(
                    "{} not listening on {port} after {timeout:?}:\n{}",
                    self.name,
                    self.log_tail(20)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Asks the process to stop (SIGTERM) and waits for it a little, then kills it.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
                .await
                .is_ok()
            {
                return;
            }
        }
        let _ = self.child.kill().await;
    }

    /// Kills at once, as a crash would (SIGKILL).
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}
