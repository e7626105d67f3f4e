//! The management API (`/api/v1`): sessions, the organization, people, scopes, API clients,
//! their secrets, the governance list and the audit log. People authenticate with a session.

pub mod audit;
pub mod clients;
pub mod governance;
pub mod org;
pub mod people;
pub mod scopes;
pub mod sessions;

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;
use chrono::{DateTime, SubsecRound, Utc};

/// The current time at the precision the store keeps (milliseconds).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// After a successful change, drops this process's cached client state so that the token
/// endpoint and token checks here honour it at once.
async fn invalidate_client_cache(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let changes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let response = next.run(request).await;
    if changes && response.status().is_success() {
        state.oauth.clients.clear();
    }
    response
}

/// Routes of the management API.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/sessions", post(sessions::sign_in))
        .route("/api/v1/sessions/current", delete(sessions::sign_out))
        .route("/api/v1/me", get(sessions::me))
        .route("/api/v1/org", get(org::get_org).patch(org::update_org))
        .route("/api/v1/people", get(people::list).post(people::create))
        .route("/api/v1/people/{id}", axum::routing::patch(people::update))
        .route("/api/v1/scopes", get(scopes::catalogue))
        .route("/api/v1/api-clients/drafts", post(clients::open_draft))
        .route(
            "/api/v1/api-clients/drafts/{client_id}",
            delete(clients::cancel_draft),
        )
        .route(
            "/api/v1/api-clients",
            get(clients::list).post(clients::create),
        )
        .route(
            "/api/v1/api-clients/{client_id}",
            get(clients::get)
                .patch(clients::update)
                .delete(clients::remove),
        )
        .route(
            "/api/v1/api-clients/{client_id}/secrets",
            post(clients::add_secret),
        )
        .route(
            "/api/v1/api-clients/{client_id}/secrets/{secret_id}",
            delete(clients::revoke_secret),
        )
        .route("/api/v1/governance/personal-clients", get(governance::list))
        .route(
            "/api/v1/governance/personal-clients/{client_id}",
            delete(governance::revoke),
        )
        .route("/api/v1/audit-events", get(audit::list))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            invalidate_client_cache,
        ))
        .layer(middleware::from_fn_with_state(
            state,
            audit::record_refusals,
        ))
}
