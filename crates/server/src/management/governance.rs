//! The governance list (`/api/v1/governance/personal-clients`): Admins see every personal
//! client's metadata (never a secret) and can revoke one; the owner then sees who revoked
//! it and when.

use super::clients::{with_secrets, ClientDto};
use crate::auth::SignedIn;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use tollgate_domain::{ClientId, ClientType};
use tollgate_store::ClientFilter;
use utoipa::ToSchema;

/// Every live personal client of the organization.
#[derive(Serialize, ToSchema)]
pub struct GovernanceList {
    /// Clients with their owner (the `principal`), scopes and secret metadata.
    pub clients: Vec<ClientDto>,
}

/// Lists every personal client's metadata (Admin).
#[utoipa::path(get, path = "/api/v1/governance/personal-clients", tag = "governance",
    responses((status = 200, body = GovernanceList), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, me: SignedIn) -> ApiResult<Json<GovernanceList>> {
    me.require_admin()?;
    let clients = state
        .store
        .list_clients(me.org_id(), ClientFilter::AllPersonal)
        .await?;
    Ok(Json(GovernanceList {
        clients: with_secrets(&state, clients).await?,
    }))
}

/// Revokes a person's personal client (Admin); recorded in the audit log.
#[utoipa::path(delete, path = "/api/v1/governance/personal-clients/{client_id}", tag = "governance",
    params(("client_id" = String, Path, description = "The personal client's ID")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    me: SignedIn,
    Path(client_id): Path<String>,
) -> ApiResult<StatusCode> {
    me.require_admin()?;
    if ClientId::parse(&client_id).is_err() {
        return Err(ApiError::not_found());
    }
    let client = state
        .store
        .get_client(me.org_id(), &client_id)
        .await?
        .filter(|c| c.client_type == ClientType::Personal && c.deleted_at.is_none())
        .ok_or_else(ApiError::not_found)?;
    let mut audit = me.audit("api_client.revoke", "api_client", &client.client_id);
    audit.details = serde_json::json!({ "owner_id": client.principal_id, "name": client.name });
    state
        .store
        .delete_client(me.org_id(), &client.client_id, &me.person.id, true, &audit)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
