//! `pxstream-ingest --config FILE`: consumes AEP profile exports and emits PX membership changes.

use std::process::ExitCode;

fn main() -> ExitCode {
    pxstream_core::service::main(
        "pxstream-ingest",
        |config| config.ingest.admin_listen,
        |config, context| async move {
            context.readiness.set(true);
            pxstream_ingest::run(config, context.shutdown).await
        },
    )
}
