//! `pxstream-delivery --config FILE`: sends membership changes from the changes topic to Gainsight PX.

use std::process::ExitCode;

fn main() -> ExitCode {
    pxstream_core::service::main(
        "pxstream-delivery",
        |config| config.delivery.admin_listen,
        |config, context| {
            pxstream_delivery::run_with_readiness(config, context.shutdown, context.readiness)
        },
    )
}
