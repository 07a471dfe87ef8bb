//! Gouvernail's HTTP edge: the JSON API (with its OpenAPI document) and the DSFR pages.
//!
//! Handlers are thin: they read the request, call one core service and shape the answer.
//! No SQL and no business rule lives here; only this crate knows JSON and HTML.

pub mod api;
pub mod assets;
pub mod auth;
pub mod charts;
pub mod convention;
pub mod equipment;
pub mod error;
pub mod export;
pub mod governance;
pub mod i18n;
pub mod indicator;
pub mod mailer;
pub mod markdown;
pub mod pages;
pub mod roadmap;
pub mod router;
pub mod state;
pub mod strategy;
pub mod territory;
pub mod upload;

pub use router::router;
pub use state::{AppState, OidcSettings, Theme, WebConfig};

/// Serves the application on `listener` until Ctrl-C or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("arrêt demandé, fin des requêtes en cours");
}
