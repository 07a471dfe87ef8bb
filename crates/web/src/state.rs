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

/// How to reach the OpenID Connect provider (ProConnect or compatible).
#[derive(Clone)]
pub struct OidcSettings {
    /// The issuer URL (discovery at `/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .finish()
    }
}

/// Settings of the web edge.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub theme: Theme,
    /// True when the instance runs the demo (a banner says so, the sign-in page lists
    /// the demo accounts).
    pub demo: bool,
    /// The address people reach the platform at (for OpenID Connect redirections), e.g.
    /// `https://gouvernail.education.gouv.fr`.
    pub public_url: String,
    /// Single sign-on, when configured.
    pub oidc: Option<OidcSettings>,
    /// Where attachments are kept, and their largest size.
    pub storage: gouvernail_core::convention::attachment::Storage,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            theme: Theme::Dsfr,
            demo: false,
            public_url: "http://127.0.0.1:8080".to_owned(),
            oidc: None,
            storage: gouvernail_core::convention::attachment::Storage {
                dir: std::path::PathBuf::from("donnees"),
                max_bytes: gouvernail_core::convention::attachment::DEFAULT_MAX_BYTES,
            },
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
