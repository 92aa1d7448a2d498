//! The signals that end a run: Ctrl-C, `kill` and a closed terminal all mean "stop what you started,
//! then exit".
//!
//! Without handlers, SIGTERM and SIGHUP end the process at once, skipping every destructor, so the broker,
//! the simulator and the services it started would keep running as orphans. Once [`Signals::install`] has
//! run, those signals are only recorded, and whoever owns the stack acts on them at the next
//! [`Signals::recv`], including one that arrived before it was called.

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Which signal asked for the stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
    Hangup,
}

impl StopSignal {
    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
            Self::Hangup => "SIGHUP",
        }
    }

    /// The shell's status for a process ended by this signal (128 + its number).
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Interrupt => 130,
            Self::Terminate => 143,
            Self::Hangup => 129,
        }
    }
}

#[derive(Debug)]
pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
    hangup: Signal,
}

impl Signals {
    /// Takes over SIGINT, SIGTERM and SIGHUP for the rest of the process's life. Needs a Tokio runtime.
    pub fn install() -> std::io::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// Waits for the next of those signals.
    pub async fn recv(&mut self) -> StopSignal {
        tokio::select! {
            _ = self.interrupt.recv() => StopSignal::Interrupt,
            _ = self.terminate.recv() => StopSignal::Terminate,
            _ = self.hangup.recv() => StopSignal::Hangup,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hangup_is_caught_and_named_instead_of_ending_the_process() {
        let mut signals = Signals::install().unwrap();
        let status = std::process::Command::new("kill")
            .args(["-HUP", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let received = tokio::time::timeout(std::time::Duration::from_secs(10), signals.recv())
            .await
            .expect("the signal arrives");
        assert_eq!(received, StopSignal::Hangup);
        assert_eq!(received.exit_code(), 129);
    }
}
