//! Page forms that may carry a file: URL-encoded (text pasted in a field) or
//! `multipart/form-data` (a file in the field `fichier`, beside the other fields), read into
//! one [`PostedForm`] so that a handler serves both the same way.
//!
//! Sizes: the routes that take a [`PostedForm`] raise axum's default body limit to
//! [`UPLOAD_CEILING`]; the configured limit (`WebConfig.storage.max_bytes`,
//! `GOUVERNAIL_MAX_UPLOAD_MIB`) bounds the file, and the text fields together, as they are
//! read. A body that cannot be read is not an error page: it becomes an [`UploadProblem`]
//! the form shows on its file field.
//!
//! Cross-site requests: these forms cross tower-http's `CsrfLayer` as every other form does
//! (`Sec-Fetch-Site` / `Origin` checks, no token), whatever their encoding.

use axum::body::Body;
use axum::extract::{Form, FromRequest, Multipart, Request};
use axum::http::header;

use crate::pages::PageCtx;
use crate::state::AppState;

/// The ceiling of an upload's body; the configured size limit is checked while reading.
pub use crate::convention::api::UPLOAD_CEILING;

/// The name of the file field of every upload form.
pub const FILE_FIELD: &str = "fichier";

/// A file sent with a form.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The name the browser gave (no path).
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Upload {
    /// True for a zip container (XLSX, ODS…), by its first bytes.
    pub fn is_zip(&self) -> bool {
        self.bytes.starts_with(b"PK\x03\x04")
    }
}

/// Why a posted body could not be read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadProblem {
    /// Larger than the configured limit (in MiB).
    TooLarge { max_mib: usize },
    /// Cut short or malformed (the cause, for the logs).
    Unreadable(String),
}

impl UploadProblem {
    /// The message the form shows on its file field, in the request's language.
    pub fn message(&self, ctx: &PageCtx) -> String {
        match self {
            UploadProblem::TooLarge { max_mib } => format!("{} {max_mib} Mio", ctx.t("upload-too-large")),
            UploadProblem::Unreadable(_) => ctx.t("upload-unreadable"),
        }
    }
}

/// A posted page form: its text fields in order, its file when one was chosen, and what
/// prevented reading it, if anything (the fields read until then are kept).
#[derive(Debug, Clone, Default)]
pub struct PostedForm {
    pub pairs: Vec<(String, String)>,
    pub file: Option<Upload>,
    pub problem: Option<UploadProblem>,
}

impl PostedForm {
    fn failed(pairs: Vec<(String, String)>, problem: UploadProblem) -> Self {
        Self {
            pairs,
            file: None,
            problem: Some(problem),
        }
    }
}

fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

impl FromRequest<AppState> for PostedForm {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let max = state.config.storage.max_bytes;
        let too_large = UploadProblem::TooLarge {
            max_mib: max / (1024 * 1024),
        };
        if is_multipart(&req) {
            return Ok(match Multipart::from_request(req, state).await {
                Ok(form) => read_multipart(form, max, too_large).await,
                Err(e) => PostedForm::failed(Vec::new(), UploadProblem::Unreadable(e.body_text())),
            });
        }
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, max).await {
            Ok(bytes) => bytes,
            Err(e) => {
                let too_long =
                    std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
                let problem = if too_long {
                    too_large
                } else {
                    UploadProblem::Unreadable(e.to_string())
                };
                return Ok(PostedForm::failed(Vec::new(), problem));
            }
        };
        let req = Request::from_parts(parts, Body::from(bytes));
        Ok(
            match Form::<Vec<(String, String)>>::from_request(req, state).await {
                Ok(Form(pairs)) => PostedForm {
                    pairs,
                    ..PostedForm::default()
                },
                Err(e) => PostedForm::failed(Vec::new(), UploadProblem::Unreadable(e.body_text())),
            },
        )
    }
}

/// Reads every part: the file of [`FILE_FIELD`] (none when the browser sent an empty one,
/// as it does when no file was chosen) up to `max` bytes, the text fields up to `max` bytes
/// together.
async fn read_multipart(mut form: Multipart, max: usize, too_large: UploadProblem) -> PostedForm {
    let mut pairs = Vec::new();
    let mut file = None;
    let mut text_bytes = 0usize;
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return PostedForm::failed(pairs, UploadProblem::Unreadable(e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let is_file = name == FILE_FIELD && file_name.is_some();
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    let used = if is_file { bytes.len() } else { text_bytes };
                    if used + chunk.len() > max {
                        return PostedForm::failed(pairs, too_large);
                    }
                    if !is_file {
                        text_bytes += chunk.len();
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return PostedForm::failed(pairs, UploadProblem::Unreadable(e.body_text())),
            }
        }
        if is_file {
            let name = file_name.unwrap_or_default();
            if !(name.is_empty() && bytes.is_empty()) {
                file = Some(Upload { name, bytes });
            }
        } else {
            match String::from_utf8(bytes) {
                Ok(text) => pairs.push((name, text)),
                Err(_) => {
                    return PostedForm::failed(
                        pairs,
                        UploadProblem::Unreadable(format!("{name} : pas en UTF-8")),
                    );
                }
            }
        }
    }
    PostedForm {
        pairs,
        file,
        problem: None,
    }
}
