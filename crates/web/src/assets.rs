//! Static files (the vendored DSFR, our stylesheet) embedded in the binary: no CDN, no
//! file to deploy beside it.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "*.md"]
struct Assets;

/// `GET /static/{*path}`: an embedded file with its type and a long cache lifetime (the
/// URLs carry the application version).
pub async fn serve_asset(Path(path): Path<String>) -> Response {
    let path = path.trim_start_matches('/');
    let Some(file) = Assets::get(path) else {
        return (StatusCode::NOT_FOUND, "fichier introuvable").into_response();
    };
    let mime = mime_of(path);
    let mut response = file.data.into_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}

fn mime_of(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "json" | "webmanifest" => "application/json",
        _ => "application/octet-stream",
    }
}

/// True if an embedded asset exists (for tests of the layout's links).
pub fn exists(path: &str) -> bool {
    Assets::get(path).is_some()
}
