//! The audit log (`/api/v1/audit-events`), newest first, for Admins.

use crate::auth::SignedIn;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
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
