//! The table of contents of the application: every route, in one place.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::pages::{self, PageCtx};
use crate::state::AppState;
use crate::territory;

/// Builds the whole application.
pub fn router(state: AppState) -> Router {
    let (api, doc) = crate::api::routes();
    let doc_json: Arc<str> = match serde_json::to_string_pretty(&doc) {
        Ok(s) => Arc::from(s),
        Err(e) => {
            tracing::error!("cannot serialise the OpenAPI document: {e}");
            Arc::from("{}")
        }
    };
    let operations = Arc::new(pages::operations_of(&doc));
    let doc = Arc::new(doc);

    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/", get(pages::home))
        .route("/recherche", get(pages::search))
        .route("/langue/{code}", get(pages::switch_language))
        .route(
            "/api",
            get(move |ctx: PageCtx| {
                let doc = doc.clone();
                let operations = operations.clone();
                async move { pages::api_reference(ctx, &doc, &operations).await }
            }),
        )
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let body = doc_json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                        body.to_string(),
                    )
                        .into_response()
                }
            }),
        )
        .route("/static/{*path}", get(crate::assets::serve_asset))
        .merge(territory::pages::routes())
        .merge(crate::auth::pages::routes())
        .merge(crate::strategy::pages::routes())
        .merge(crate::roadmap::pages::routes())
        .merge(crate::roadmap::action_pages::routes())
        .merge(crate::governance::pages::routes())
        .merge(crate::convention::pages::routes())
        .merge(crate::indicator::pages::routes())
        .merge(crate::equipment::pages::routes())
        .route("/agenda/{file}", get(crate::governance::api::feed))
        .merge(api)
        .fallback(pages::not_found)
        .with_state(state)
        .layer(tower_http::csrf::CsrfLayer::new())
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
            ),
        ))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(CatchPanicLayer::new())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}
