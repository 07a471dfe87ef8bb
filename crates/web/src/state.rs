//! What every handler receives: the database and the configuration. Nothing else is held
//! in memory between requests, so several instances can serve one PostgreSQL database.

use std::sync::Arc;

use gouvernail_core::db::Db;

/// The look of the pages. The DSFR is reserved to State services; other deployments pick
/// the neutral theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Dsfr,
    Neutre,
}

impl Theme {
    /// Parses `dsfr` or `neutre` (also `neutral`).
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "dsfr" => Some(Theme::Dsfr),
            "neutre" | "neutral" => Some(Theme::Neutre),
            _ => None,
        }
    }
}

/// Settings of the web edge.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub theme: Theme,
    /// True when the instance runs the demo (a banner says so).
    pub demo: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            theme: Theme::Dsfr,
            demo: false,
        }
    }
}

/// Shared, cheap-to-clone state of the application.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<WebConfig>,
}

impl AppState {
    pub fn new(db: Db, config: WebConfig) -> Self {
        Self {
            db,
            config: Arc::new(config),
        }
    }
}
