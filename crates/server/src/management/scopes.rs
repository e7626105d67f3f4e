//! The scope catalogue (`/api/v1/scopes`).

use crate::auth::SignedIn;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use tollgate_domain::{Role, Scope};
use utoipa::{IntoParams, ToSchema};

/// Query of the catalogue.
#[derive(Deserialize, IntoParams)]
pub struct CatalogueQuery {
    /// For a service account of this role: also limit grantable scopes to the role.
    pub role: Option<String>,
}

/// One scope of the catalogue.
#[derive(Serialize, ToSchema)]
pub struct ScopeEntry {
    /// `object.action`
    pub scope: String,
    /// The object.
    pub object: &'static str,
    /// The action.
    pub action: &'static str,
    /// Whether the caller may grant it (within their role and, if given, the client's role).
    pub grantable: bool,
}

/// The catalogue.
#[derive(Serialize, ToSchema)]
pub struct Catalogue {
    /// All 21 scopes in catalogue order.
    pub scopes: Vec<ScopeEntry>,
}

/// Every scope, marking which ones the caller may grant.
#[utoipa::path(get, path = "/api/v1/scopes", tag = "api-clients", params(CatalogueQuery),
    responses((status = 200, body = Catalogue), (status = 422, body = ErrorBody)))]
pub async fn catalogue(
    State(_state): State<AppState>,
    me: SignedIn,
    Query(q): Query<CatalogueQuery>,
) -> ApiResult<Json<Catalogue>> {
    let mut allowed = me.person.role.permissions();
    if let Some(role) = q.role.as_deref() {
        let role: Role = role
            .parse()
            .map_err(|e: tollgate_domain::role::UnknownRole| {
                ApiError::invalid("invalid_role", "role", e.to_string())
            })?;
        allowed = allowed.intersection(role.permissions());
    }
    let scopes = Scope::all()
        .map(|s| ScopeEntry {
            scope: s.to_string(),
            object: s.object().as_str(),
            action: s.action().as_str(),
            grantable: allowed.contains(s),
        })
        .collect();
    Ok(Json(Catalogue { scopes }))
}
