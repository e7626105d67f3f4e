//! Building and running the application: storage, keys, routes and middleware.

use crate::config::Config;
use crate::error::{ApiError, ErrorBody, ErrorDetail, InternalCause};
use crate::keys::MasterKey;
use crate::oauth::cache::ClientCache;
use crate::oauth::keys::Keys;
use crate::oauth::limiter::Limiter;
use crate::oauth::OAuth;
use crate::state::AppState;
use crate::{management, oauth, openapi};
use anyhow::Context;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tollgate_store::Store;
use tracing::Instrument;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A built application, bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    /// Opens storage (applying migrations), loads keys and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
        let store = Store::connect(&config.database_url(), config.db_max_connections)
            .await
            .context("opening the database")?;
        Application::build_with_store(config, store).await
    }

    /// Like [`Application::build`] with storage already open.
    pub async fn build_with_store(config: Config, store: Store) -> anyhow::Result<Application> {
        config.validate()?;
        let key = MasterKey::load_or_create(&config)?;
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let local = listener.local_addr()?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}"))
            .trim_end_matches('/')
            .to_owned();
        let default_audience = config
            .audience
            .clone()
            .unwrap_or_else(|| format!("{public_url}/v1"));
        let mut audiences = vec![default_audience.clone()];
        audiences.extend(config.resources.iter().cloned());
        audiences.dedup();
        let token_lifetime = chrono::Duration::seconds(config.token_lifetime_seconds);
        let keys = Keys::load(
            store.clone(),
            key.signing_kek(),
            &config.signing_alg,
            public_url.clone(),
            audiences.clone(),
            token_lifetime,
        )
        .await
        .context("loading the token-signing keys")?;
        let oauth = OAuth {
            keys,
            clients: ClientCache::new(Duration::from_millis(config.client_cache_ttl_ms)),
            limiter: Limiter::new(
                Duration::from_secs(config.auth_failure_window_seconds),
                config.auth_failures_before_delay,
                config.auth_failures_before_429,
            ),
            usage: Default::default(),
            revoked: Default::default(),
            default_audience,
            audiences,
            token_lifetime,
        };
        let state = AppState::new(store, config, key.secret_pepper(), public_url, oauth);
        spawn_background_tasks(&state);
        Ok(Application {
            listener,
            router: router(state.clone()),
            state,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The shared state (store, configuration).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        self.state.oauth.usage.flush(&self.state.store).await;
        served
    }
}

/// Key refresh and last-used flushing, for as long as the runtime lives.
fn spawn_background_tasks(state: &AppState) {
    let s = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(s.config.key_refresh_seconds));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = s.oauth.keys.refresh().await {
                tracing::warn!(error = %e, "could not refresh the signing keys");
            }
        }
    });
    let s = state.clone();
    tokio::spawn(async move {
        let period = Duration::from_secs(s.config.usage_flush_seconds.max(1));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            s.oauth.usage.flush(&s.store).await;
        }
    });
}

/// All routes with their middleware.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(management::router(state.clone()))
        .merge(oauth::router())
        .merge(crate::compliance::router())
        .route("/api/openapi.json", get(openapi_document))
        .route("/healthz", get(health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(request_context))
        .with_state(state)
}

async fn openapi_document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi::json(),
    )
}

async fn health(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(serde_json::json!({"status": "ok", "database": state.store.engine()}))
            .into_response(),
        Err(e) => ApiError::unavailable(&e).into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such endpoint.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This endpoint does not support that method.",
    )
}

fn has_json_body(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The API's error for a request an extractor refused before any handler ran.
fn extractor_rejection(status: StatusCode) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "payload_too_large",
            "The request body is too large (limit 64 KiB).",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            status,
            "unsupported_media_type",
            "Send a JSON body with `Content-Type: application/json`.",
        ),
        StatusCode::NOT_FOUND => ApiError::not_found(),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method_not_allowed",
            "This endpoint does not support that method.",
        ),
        _ => ApiError::new(
            status,
            "invalid_request",
            "The request's path, query string or body could not be read; check it against the API reference.",
        ),
    }
}

/// Gives each request an id (echoed in `X-Request-Id`), logs it, and turns the body of an
/// internal error into an opaque one that repeats the id under which the cause is logged.
async fn request_context(request: Request, next: Next) -> Response {
    let id = tollgate_domain::ids::random_base62(&mut rand::thread_rng(), 16);
    let span = tracing::debug_span!("request", id = %id, method = %request.method(), path = %request.uri().path());
    let path = request.uri().path();
    let json_api = path.starts_with("/api/") || path.starts_with("/v1/") || path == "/v1";
    async move {
        let started = std::time::Instant::now();
        let mut response = next.run(request).await;
        if json_api && response.status().is_client_error() && !has_json_body(&response) {
            // An extractor (path, query, body) refused the request with axum's plain-text
            // answer; the JSON API answers every error in its one shape.
            response = extractor_rejection(response.status()).into_response();
        }
        if let Some(InternalCause(cause)) = response.extensions_mut().remove::<InternalCause>() {
            tracing::error!(request_id = %id, cause = %cause, "internal error");
            let status = response.status();
            let code = if status == StatusCode::SERVICE_UNAVAILABLE {
                "unavailable"
            } else {
                "internal_error"
            };
            let body = ErrorBody {
                error: ErrorDetail {
                    code,
                    message: format!(
                        "An internal error occurred; quote request id {id} to your operator."
                    ),
                    field: None,
                    request_id: Some(id.clone()),
                },
            };
            response = (status, Json(body)).into_response();
        }
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&id) {
            headers.insert("x-request-id", v);
        }
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
        tracing::debug!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "response"
        );
        response
    }
    .instrument(span)
    .await
}
