//! The directory (`/v1/users`): the organization's people and service principals, read only,
//! each marked with its `type` and `active` state so that a UI can keep service principals
//! (and deactivated people) out of owner and assignee pickers. Needs `user.read`.

use super::openapi::{BadRequest, Forbidden, NotFound, Unauthorized};
use super::{authorize, next_cursor, page, parse_query, V1Result};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use tollgate_domain::ids::is_principal_id;
use tollgate_domain::scope::{Action, Object};
use tollgate_domain::{PrincipalKind, Role, Scope};
use tollgate_store::Principal;
use tollgate_token_verifier::AccessClaims;
use utoipa::{IntoParams, ToSchema};

const COLLECTION: &str = "users";

/// One entry of the directory.
#[derive(Serialize, ToSchema)]
pub struct DirectoryEntry {
    /// `usr_…` or `sp_…`
    pub id: String,
    /// `person` or `service_principal`: service principals never own or are assigned work.
    #[serde(rename = "type")]
    pub kind: PrincipalKind,
    /// Display name (a service principal bears its client's name).
    pub name: String,
    /// People only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Current role.
    pub role: Role,
    /// Deactivated principals cannot own, be assigned or be listed as auditors.
    pub active: bool,
}

impl From<Principal> for DirectoryEntry {
    fn from(p: Principal) -> Self {
        DirectoryEntry {
            id: p.id,
            kind: p.kind,
            name: p.name,
            email: p.email,
            role: p.role,
            active: p.active,
        }
    }
}

/// A page of the directory.
#[derive(Serialize, ToSchema)]
pub struct DirectoryPage {
    /// Entries, by id.
    pub data: Vec<DirectoryEntry>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// `GET /v1/users` parameters. `limit` is read as text so that a bad one gets the API's own
/// 400 (`invalid_limit`); the document shows the integer it must be.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Entries per page, 1–500 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// `next_cursor` of the previous page, unchanged.
    cursor: Option<String>,
    /// Only this kind of principal.
    #[serde(rename = "type")]
    #[param(value_type = Option<PrincipalKind>)]
    kind: Option<String>,
}

fn user_read() -> Scope {
    Scope::new(Object::User, Action::Read).expect("user.read exists")
}

/// Lists the directory by id (`?type=person|service_principal`, `limit`, `cursor`).
#[utoipa::path(get, path = "/v1/users", tag = "compliance", params(ListQuery),
    security(("bearer_access_token" = ["user.read"])),
    responses((status = 200, body = DirectoryPage), BadRequest, Unauthorized, Forbidden))]
pub async fn list(
    State(state): State<AppState>,
    claims: AccessClaims,
    RawQuery(query): RawQuery,
) -> V1Result<Json<DirectoryPage>> {
    let caller = authorize(&state, claims, user_read()).await?;
    let q: ListQuery = parse_query(query.as_deref())?;
    let kind = match q.kind.as_deref() {
        None => None,
        Some(text) => Some(PrincipalKind::parse(text).ok_or_else(|| {
            ApiError::bad_request("type must be `person` or `service_principal`.").field("type")
        })?),
    };
    let page = page(
        &state,
        COLLECTION,
        caller.org(),
        q.limit.as_deref(),
        q.cursor.as_deref(),
    )?;
    let mut rows = state
        .store
        .list_principals(caller.org(), kind, page.after.as_deref(), page.limit + 1)
        .await?;
    let more = rows.len() as i64 > page.limit;
    rows.truncate(page.limit as usize);
    let next = next_cursor(
        &state,
        COLLECTION,
        caller.org(),
        more,
        rows.last().map(|p| p.id.as_str()),
    );
    Ok(Json(DirectoryPage {
        data: rows.into_iter().map(Into::into).collect(),
        next_cursor: next,
    }))
}

/// Reads one directory entry; other organizations' principals are 404 like missing ones.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "compliance",
    params(("id" = String, Path, description = "A `usr_…` or `sp_…` id")),
    security(("bearer_access_token" = ["user.read"])),
    responses((status = 200, body = DirectoryEntry), Unauthorized, Forbidden, NotFound))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    claims: AccessClaims,
) -> V1Result<Json<DirectoryEntry>> {
    let caller = authorize(&state, claims, user_read()).await?;
    // A malformed id is answered like a missing one, before it reaches the database.
    let principal = if is_principal_id(&id) {
        state.store.get_principal(caller.org(), &id).await?
    } else {
        None
    }
    .ok_or_else(ApiError::not_found)?;
    Ok(Json(principal.into()))
}
