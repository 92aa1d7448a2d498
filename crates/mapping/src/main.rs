//! `pxstream-mapping --config FILE`: serves the identity mapping gRPC service until SIGTERM or SIGINT.

use std::process::ExitCode;

use pxstream_mapping::server::MappingServer;
use tokio::net::TcpListener;

fn main() -> ExitCode {
    pxstream_core::service::main(
        "pxstream-mapping",
        |config| config.mapping.admin_listen,
        |config, context| async move {
            let server = MappingServer::open(&config).await?;
            let listener = TcpListener::bind(config.mapping.listen).await?;
            let grpc = listener.local_addr()?;
            tracing::info!(%grpc, admin = %context.admin_addr, "pxstream-mapping listening");
            server
                .run(listener, context.readiness, context.shutdown)
                .await
        },
    )
}
