//! The audit log (`/api/v1/audit-events`), newest first, for Admins, and the recording of
//! refused changes.
//!
//! Successful changes are written by the store inside the transaction that makes them.
//! A change that is *refused* (403, 409 or 422 to an unsafe request of a signed-in person)
//! is recorded by [`record_refusals`] with outcome `failure`: actor, action, target when
//! known, source address and the error code; never a secret (the body is not looked at).
//! Refusals without a session (401), of unknown or invisible objects (404, which must not
//! reveal anything and would let anyone flood the log) and malformed requests
//! (400/413/415) write no row; failed sign-ins are recorded by the sign-in handler.

use crate::auth::{AuditContext, SignedIn};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::state::AppState;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tollgate_domain::ids::{is_record_id, PERSON_PREFIX};
use tollgate_domain::ClientId;
use tollgate_store::AuditEvent;
use utoipa::{IntoParams, ToSchema};

/// Page query.
#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–500, default 100.
    pub limit: Option<i64>,
}

/// One audit event. Never holds a secret.
#[derive(Serialize, ToSchema)]
pub struct AuditEventDto {
    /// Position in the log.
    pub id: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// `person`, `client`, `unknown` or `system`.
    pub actor_type: String,
    /// Who acted.
    pub actor_id: Option<String>,
    /// What was done, such as `api_client.create`.
    pub action: String,
    /// The kind of target.
    pub target_type: Option<String>,
    /// The target's id.
    pub target_id: Option<String>,
    /// The request's source address.
    pub source_ip: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Further facts.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<AuditEvent> for AuditEventDto {
    fn from(e: AuditEvent) -> Self {
        AuditEventDto {
            id: e.id,
            at: e.at,
            actor_type: e.actor_type,
            actor_id: e.actor_id,
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            source_ip: e.source_ip,
            outcome: e.outcome,
            details: e.details,
        }
    }
}

/// A page of events.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// Events, newest first.
    pub events: Vec<AuditEventDto>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("audit:{id}"))
}

fn decode_cursor(text: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("audit:")?
        .parse()
        .ok()
        .filter(|id| *id > 0)
}

/// Reads the audit log (Admin).
#[utoipa::path(get, path = "/api/v1/audit-events", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    me.require_admin()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid(
            "invalid_limit",
            "limit",
            "limit must be between 1 and 500.",
        ));
    }
    let before = match q.cursor.as_deref() {
        None => i64::MAX,
        Some(c) => decode_cursor(c).ok_or_else(|| {
            ApiError::bad_request("cursor is not one this endpoint returned.").field("cursor")
        })?,
    };
    let events = state
        .store
        .list_audit(me.org_id(), before, limit + 1)
        .await?;
    let more = events.len() as i64 > limit;
    let events: Vec<AuditEventDto> = events
        .into_iter()
        .take(limit as usize)
        .map(Into::into)
        .collect();
    let next_cursor = if more {
        events.last().map(|e| encode_cursor(e.id))
    } else {
        None
    };
    Ok(Json(AuditPage {
        events,
        next_cursor,
    }))
}

/// The audit action and target type of a change route, as the success events name them.
fn route_action(method: &Method, route: &str) -> Option<(&'static str, &'static str)> {
    Some(match (method.as_str(), route) {
        ("PATCH", "/api/v1/org") => ("org.update", "org"),
        ("POST", "/api/v1/people") => ("person.create", "person"),
        ("PATCH", "/api/v1/people/{id}") => ("person.update", "person"),
        ("POST", "/api/v1/api-clients/drafts") => ("api_client.draft.create", "api_client"),
        ("DELETE", "/api/v1/api-clients/drafts/{client_id}") => {
            ("api_client.draft.delete", "api_client")
        }
        ("POST", "/api/v1/api-clients") => ("api_client.create", "api_client"),
        ("PATCH", "/api/v1/api-clients/{client_id}") => ("api_client.update", "api_client"),
        ("DELETE", "/api/v1/api-clients/{client_id}") => ("api_client.delete", "api_client"),
        ("POST", "/api/v1/api-clients/{client_id}/secrets") => {
            ("api_client.secret.create", "api_client")
        }
        ("DELETE", "/api/v1/api-clients/{client_id}/secrets/{secret_id}") => {
            ("api_client.secret.revoke", "api_client")
        }
        ("DELETE", "/api/v1/governance/personal-clients/{client_id}") => {
            ("api_client.revoke", "api_client")
        }
        ("DELETE", "/api/v1/sessions/current") => ("session.delete", "session"),
        _ => return None,
    })
}

/// The target id a change route names in its path, if it has the shape of one (text that
/// no record could have is never written to the log).
fn path_target(route: &str, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    let position = route
        .split('/')
        .position(|s| s == "{id}" || s == "{client_id}")?;
    let id = *segments.get(position)?;
    let well_formed = ClientId::parse(id).is_ok() || is_record_id(PERSON_PREFIX, id);
    well_formed.then(|| id.to_owned())
}

/// Records refused changes (403, 409, 422 to unsafe requests of a signed-in person) in the
/// audit log with outcome `failure`. See the module documentation for what is not recorded.
pub async fn record_refusals(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let path = request.uri().path().to_owned();
    let context = AuditContext::default();
    request.extensions_mut().insert(context.clone());

    let response = next.run(request).await;

    let refused = matches!(
        response.status(),
        StatusCode::FORBIDDEN | StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY
    );
    if !refused {
        return response;
    }
    let Some(route) = route else { return response };
    let (person, source_ip, noted_action, noted_target) = match context.with(|n| {
        n.actor
            .take()
            .map(|(p, ip)| (p, ip, n.action.take(), n.target.take()))
    }) {
        Some(found) => found,
        None => return response,
    };
    let (action, target_type) = match route_action(&method, &route) {
        Some((action, target_type)) => (action.to_owned(), Some(target_type.to_owned())),
        None => (format!("{method} {route}"), None),
    };
    let (target_type, target_id) = match noted_target {
        Some((t, id)) => (Some(t), Some(id)),
        None if route == "/api/v1/org" => (target_type, Some(person.org_id.clone())),
        None => (target_type, path_target(&route, &path)),
    };
    let code = response.extensions().get::<ErrorCode>().copied();
    let mut details = serde_json::json!({
        "status": response.status().as_u16(),
        "code": code.map(|c| c.code),
    });
    if let Some(field) = code.and_then(|c| c.field) {
        details["field"] = field.into();
    }
    if let Some(secret_id) = route
        .ends_with("{secret_id}")
        .then(|| path.rsplit('/').next())
        .flatten()
        .filter(|id| is_record_id(tollgate_domain::ids::SECRET_PREFIX, id))
    {
        details["secret_id"] = secret_id.into();
    }
    let event = AuditEvent {
        id: 0,
        org_id: Some(person.org_id.clone()),
        at: super::now(),
        actor_type: "person".into(),
        actor_id: Some(person.id.clone()),
        action: noted_action.unwrap_or(action),
        target_type,
        target_id,
        source_ip,
        outcome: "failure".into(),
        details,
    };
    if let Err(e) = state.store.append_audit(&event).await {
        tracing::warn!(error = %e, action = %event.action, "could not record a refused change");
    }
    response
}
