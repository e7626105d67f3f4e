//! Signing in and out (`/api/v1/sessions`) and `/api/v1/me`.

use super::now;
use crate::auth::{hash_session_token, SignedIn, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::management::people::{parse_email, PersonDto};
use crate::password;
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use tollgate_domain::ids::random_base62;
use tollgate_store::AuditEvent;
use utoipa::ToSchema;

/// Sign-in request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The person's email.
    pub email: String,
    /// Their password.
    pub password: String,
}

/// A new session.
#[derive(Serialize, ToSchema)]
pub struct SessionDto {
    /// Send as `Authorization: Bearer <session_token>`, or rely on the cookie set alongside.
    pub session_token: String,
    /// Send in `X-CSRF-Token` with every unsafe request that relies on the cookie.
    pub csrf_token: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
    /// Who signed in.
    pub person: PersonDto,
}

/// Signs a person in with email and password (Argon2id).
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = SignInRequest,
    responses((status = 201, body = SessionDto), (status = 401, body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<SignInRequest>,
) -> ApiResult<impl IntoResponse> {
    // Every stored email passed `parse_email`, so text it refuses (a control character, say,
    // which PostgreSQL text cannot even hold) is answered like an unknown email, without a
    // query.
    let email = parse_email(&req.email).ok();
    let found = match &email {
        Some(email) => state.store.find_person_by_email(email).await?,
        None => None,
    };
    let hash = found.as_ref().map(|(_, h)| h.clone());
    let verified = password::verify(req.password, hash).await;
    let person = match found {
        Some((person, _)) if verified && person.active => person,
        other => {
            let mut event = AuditEvent {
                id: 0,
                org_id: other.as_ref().map(|(p, _)| p.org_id.clone()),
                at: now(),
                actor_type: "person".into(),
                actor_id: other.as_ref().map(|(p, _)| p.id.clone()),
                action: "session.create".into(),
                target_type: None,
                target_id: None,
                source_ip: Some(peer.ip().to_string()),
                outcome: "failure".into(),
                details: serde_json::json!({}),
            };
            if other.is_none() {
                event.actor_type = "unknown".into();
            }
            if let Err(e) = state.store.append_audit(&event).await {
                tracing::warn!(error = %e, "could not record a failed sign-in");
            }
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Email or password is wrong, or the account is deactivated.",
            ));
        }
    };
    let token = format!("tgst_{}", random_base62(&mut rand::rngs::OsRng, 43));
    let csrf = random_base62(&mut rand::rngs::OsRng, 32);
    let created = now();
    let expires_at = created + Duration::hours(state.config.session_ttl_hours);
    state
        .store
        .create_session(
            &hash_session_token(&token),
            &person.id,
            &csrf,
            created,
            expires_at,
        )
        .await?;
    let signed_in = SignedIn {
        person: person.clone(),
        session_hash: Vec::new(),
        source_ip: Some(peer.ip().to_string()),
        context: None,
    };
    state
        .store
        .append_audit(&signed_in.audit("session.create", "person", &person.id))
        .await?;
    let secure = if state.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        state.config.session_ttl_hours * 3600
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal(&e))?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let body = SessionDto {
        session_token: token,
        csrf_token: csrf,
        expires_at,
        person: person.into(),
    };
    Ok((StatusCode::CREATED, headers, Json(body)))
}

/// Ends the current session.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "sessions",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn sign_out(State(state): State<AppState>, me: SignedIn) -> ApiResult<impl IntoResponse> {
    state.store.delete_session(&me.session_hash).await?;
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]))
}

/// The signed-in person.
#[utoipa::path(get, path = "/api/v1/me", tag = "sessions",
    responses((status = 200, body = PersonDto), (status = 401, body = ErrorBody)))]
pub async fn me(me: SignedIn) -> Json<PersonDto> {
    Json(me.person.into())
}
