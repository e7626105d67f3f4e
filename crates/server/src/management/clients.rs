//! API clients (`/api/v1/api-clients`): drafts, create, list, read, edit, delete, secrets.
//!
//! Visibility: a service-account client is seen only by Admins (every Admin sees every one);
//! a personal client only by the person who created it. Everyone else gets the same 404 as
//! for a client that does not exist.

use super::now;
use crate::auth::SignedIn;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tollgate_domain::client::{check_grant, secret_expiry, ExpiryError, GrantError};
use tollgate_domain::ids::{is_record_id, new_id, SECRET_PREFIX, SERVICE_PRINCIPAL_PREFIX};
use tollgate_domain::{
    ClientId, ClientName, ClientType, Description, PrincipalKind, Role, Scope, ScopeSet,
    SecretValue,
};
use tollgate_store::{
    ApiClient, ClientChanges, ClientFilter, Draft, NewClient, NewSecret, SecretMeta, WriteError,
};
use utoipa::{IntoParams, ToSchema};

/// Request to open a "new client" draft.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDraftRequest {
    /// Which kind of client the draft is for.
    #[serde(rename = "type")]
    pub client_type: ClientType,
}

/// An open draft: a client ID reserved for the person who opened it.
#[derive(Serialize, ToSchema)]
pub struct DraftDto {
    /// The 32-character client ID the client will have once saved.
    pub client_id: String,
    /// The client type.
    #[serde(rename = "type")]
    pub client_type: ClientType,
    /// Unsaved drafts are discarded after this.
    pub expires_at: DateTime<Utc>,
}

/// Request to save a draft as a client.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    /// The client ID of an open draft of yours.
    pub client_id: String,
    /// Must match the draft.
    #[serde(rename = "type")]
    pub client_type: ClientType,
    /// 1–100 characters, unique per organization and type (ignoring case).
    pub name: String,
    /// Up to 1,000 characters.
    pub description: Option<String>,
    /// At least one scope, within your permissions (and the role's, for a service account).
    pub scopes: Vec<String>,
    /// Service accounts only: the service principal's role.
    pub role: Option<Role>,
    /// Expiry of the first secret; default six months, at most the organization's maximum.
    pub secret_expires_at: Option<DateTime<Utc>>,
}

/// A principal as other records name it.
#[derive(Serialize, ToSchema, Clone)]
pub struct PrincipalRef {
    /// `usr_…` or `sp_…`
    pub id: String,
    /// Person or service principal.
    #[serde(rename = "type")]
    pub kind: PrincipalKind,
    /// Display name.
    pub name: String,
}

/// A secret's metadata; its value is shown only when created.
#[derive(Serialize, ToSchema)]
pub struct SecretDto {
    /// `sec_…`
    pub id: String,
    /// The prefix and last four characters.
    pub hint: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Last successful token request with it.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether it has expired.
    pub expired: bool,
}

impl SecretDto {
    fn from_meta(m: SecretMeta, now: DateTime<Utc>) -> SecretDto {
        SecretDto {
            expired: m.expires_at <= now,
            id: m.id,
            hint: m.hint,
            created_at: m.created_at,
            expires_at: m.expires_at,
            last_used_at: m.last_used_at,
        }
    }
}

/// A new secret, with its value: shown this once and never again.
#[derive(Serialize, ToSchema)]
pub struct NewSecretDto {
    /// `sec_…`
    pub id: String,
    /// The secret. Store it now: it cannot be shown again.
    pub value: String,
    /// The prefix and last four characters, as lists show it.
    pub hint: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// Who revoked a personal client through the governance list, and when.
#[derive(Serialize, ToSchema)]
pub struct RevocationDto {
    /// The Admin who revoked it.
    pub by: PrincipalRef,
    /// When.
    pub at: DateTime<Utc>,
}

/// An API client.
#[derive(Serialize, ToSchema)]
pub struct ClientDto {
    /// The 32-character client ID.
    pub client_id: String,
    /// Service account or personal.
    #[serde(rename = "type")]
    pub client_type: ClientType,
    /// Name.
    pub name: String,
    /// Description (possibly empty).
    pub description: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Granted scopes that the principal's current role still permits: what a token gets.
    pub effective_scopes: Vec<String>,
    /// The principal's current role (a personal client follows its person's role).
    pub role: Role,
    /// The principal the client acts as.
    pub principal: PrincipalRef,
    /// Who created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// `active`, or `revoked` when an Admin revoked this personal client.
    pub status: &'static str,
    /// Present when revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<RevocationDto>,
    /// The client's secrets (metadata only).
    pub secrets: Vec<SecretDto>,
}

/// Builds the wire form of a client with its secrets.
pub fn client_dto(c: ApiClient, secrets: Vec<SecretMeta>) -> ClientDto {
    let now = Utc::now();
    let revoked = match (c.revoked_by_admin, c.deleted_at, c.deleted_by) {
        (true, Some(at), Some(by)) => Some(RevocationDto {
            by: PrincipalRef {
                id: by,
                kind: PrincipalKind::Person,
                name: c.deleted_by_name.unwrap_or_default(),
            },
            at,
        }),
        _ => None,
    };
    ClientDto {
        effective_scopes: c.scopes.intersection(c.role.permissions()).names(),
        scopes: c.scopes.names(),
        principal: PrincipalRef {
            id: c.principal_id,
            kind: match c.client_type {
                ClientType::ServiceAccount => PrincipalKind::ServicePrincipal,
                ClientType::Personal => PrincipalKind::Person,
            },
            name: c.principal_name,
        },
        client_id: c.client_id,
        client_type: c.client_type,
        name: c.name,
        description: c.description,
        role: c.role,
        created_by: c.created_by,
        created_at: c.created_at,
        updated_at: c.updated_at,
        status: if revoked.is_some() {
            "revoked"
        } else {
            "active"
        },
        revoked,
        secrets: secrets
            .into_iter()
            .map(|s| SecretDto::from_meta(s, now))
            .collect(),
    }
}

/// The client with its secrets.
#[derive(Serialize, ToSchema)]
pub struct CreatedClient {
    /// The saved client.
    pub client: ClientDto,
    /// Its first secret, with the value shown this once.
    pub secret: NewSecretDto,
}

/// A list of clients.
#[derive(Serialize, ToSchema)]
pub struct ClientList {
    /// Clients, oldest first.
    pub clients: Vec<ClientDto>,
}

/// List filter.
#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// `service_account` (Admins) or `personal` (your own); absent: both that you may see.
    #[serde(rename = "type")]
    pub client_type: Option<String>,
}

/// Changes to a client; absent fields stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClientRequest {
    /// New name.
    pub name: Option<String>,
    /// New description (empty string clears it).
    pub description: Option<String>,
    /// New scopes (replace the old ones).
    pub scopes: Option<Vec<String>>,
    /// Service accounts only: new role of the service principal.
    pub role: Option<Role>,
}

/// Request for a new secret; the body may be omitted.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AddSecretRequest {
    /// Expiry; default six months, at most the organization's maximum.
    pub expires_at: Option<DateTime<Utc>>,
}

fn require_type_allowed(me: &SignedIn, client_type: ClientType) -> Result<(), ApiError> {
    if client_type == ClientType::ServiceAccount && !me.is_admin() {
        return Err(ApiError::forbidden(
            "Only an Admin can create or manage service-account clients; create a personal client instead.",
        ));
    }
    Ok(())
}

async fn require_m2m(state: &AppState, me: &SignedIn) -> Result<tollgate_store::Org, ApiError> {
    let org = state
        .store
        .get_org(me.org_id())
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !org.m2m_enabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "m2m_disabled",
            "M2M API authentication is off for this organization, so no API client can be created. An Admin can turn it on (PATCH /api/v1/org {\"m2m_enabled\": true}).",
        ));
    }
    Ok(org)
}

/// Opens a "new client" draft, reserving a fresh client ID for the caller.
#[utoipa::path(post, path = "/api/v1/api-clients/drafts", tag = "api-clients", request_body = OpenDraftRequest,
    responses((status = 201, body = DraftDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn open_draft(
    State(state): State<AppState>,
    me: SignedIn,
    ApiJson(req): ApiJson<OpenDraftRequest>,
) -> ApiResult<(StatusCode, Json<DraftDto>)> {
    require_type_allowed(&me, req.client_type)?;
    require_m2m(&state, &me).await?;
    let created_at = now();
    for _ in 0..5 {
        let draft = Draft {
            client_id: ClientId::generate(&mut rand::rngs::OsRng).to_string(),
            org_id: me.org_id().to_owned(),
            person_id: me.person.id.clone(),
            client_type: req.client_type,
            created_at,
            expires_at: created_at + Duration::seconds(state.config.draft_ttl_seconds),
        };
        let mut audit = me.audit("api_client.draft.create", "api_client", &draft.client_id);
        audit.at = created_at;
        audit.details =
            serde_json::json!({ "type": draft.client_type, "expires_at": draft.expires_at });
        if state.store.create_draft(&draft, Some(&audit)).await? {
            return Ok((
                StatusCode::CREATED,
                Json(DraftDto {
                    client_id: draft.client_id,
                    client_type: draft.client_type,
                    expires_at: draft.expires_at,
                }),
            ));
        }
    }
    Err(ApiError::internal(&std::io::Error::other(
        "could not draw an unused client ID in five attempts",
    )))
}

/// Cancels a draft: its client ID will never become a client.
#[utoipa::path(delete, path = "/api/v1/api-clients/drafts/{client_id}", tag = "api-clients",
    params(("client_id" = String, Path, description = "The draft's client ID")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn cancel_draft(
    State(state): State<AppState>,
    me: SignedIn,
    Path(client_id): Path<String>,
) -> ApiResult<StatusCode> {
    if ClientId::parse(&client_id).is_err() {
        return Err(ApiError::not_found());
    }
    let audit = me.audit("api_client.draft.delete", "api_client", &client_id);
    if state
        .store
        .delete_draft(me.org_id(), &me.person.id, &client_id, Some(&audit))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

fn parse_scopes(names: &[String]) -> Result<ScopeSet, ApiError> {
    ScopeSet::parse_list(names)
        .map_err(|e| ApiError::invalid("unknown_scope", "scopes", format!("{e}.")))
}

fn grant_error(e: GrantError) -> ApiError {
    let code = match e {
        GrantError::NoScopes => "scopes_required",
        GrantError::BeyondGrantor { .. } => "scope_not_allowed",
        GrantError::BeyondRole { .. } => "scope_not_allowed_for_role",
    };
    ApiError::invalid(code, "scopes", format!("{e}."))
}

/// A service account would hold `scope`, which `role` does not permit: named on `scopes`
/// when the request sent scopes, otherwise on `role` (the client already holds it).
fn beyond_role(scope: Scope, role: Role, scopes_sent: bool) -> ApiError {
    if scopes_sent {
        grant_error(GrantError::BeyondRole { scope, role })
    } else {
        ApiError::invalid(
            "scope_not_allowed_for_role",
            "role",
            format!("The client holds `{scope}`, which the {role} role does not permit; send scopes within the role together with the new role."),
        )
    }
}

fn expiry_error(e: ExpiryError, field: &'static str) -> ApiError {
    ApiError::invalid(
        "invalid_expiry",
        field,
        e.to_string().replace("secret_expires_at", field),
    )
}

/// A fresh secret and the record to store: only its keyed hash and hint.
fn new_secret(
    state: &AppState,
    me: &SignedIn,
    expires_at: DateTime<Utc>,
) -> (SecretValue, NewSecret) {
    let value = SecretValue::generate(&mut rand::rngs::OsRng);
    let record = NewSecret {
        id: new_id(SECRET_PREFIX, &mut rand::rngs::OsRng),
        hash: state.pepper.hash(&value).0,
        hint: value.hint(),
        created_by: me.person.id.clone(),
        expires_at,
    };
    (value, record)
}

fn reveal(value: &SecretValue, meta: &NewSecret, created_at: DateTime<Utc>) -> NewSecretDto {
    NewSecretDto {
        id: meta.id.clone(),
        value: value.expose().to_owned(),
        hint: meta.hint.clone(),
        created_at,
        expires_at: meta.expires_at,
    }
}

/// Saves an open draft as a client, with its first secret.
#[utoipa::path(post, path = "/api/v1/api-clients", tag = "api-clients", request_body = CreateClientRequest,
    responses((status = 201, body = CreatedClient), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: SignedIn,
    ApiJson(req): ApiJson<CreateClientRequest>,
) -> ApiResult<(StatusCode, Json<CreatedClient>)> {
    require_type_allowed(&me, req.client_type)?;
    let org = require_m2m(&state, &me).await?;
    let client_id = ClientId::parse(&req.client_id)
        .map_err(|e| ApiError::invalid("invalid_client_id", "client_id", format!("{e}.")))?;
    me.note_target("api_client", client_id.as_str());
    let name = ClientName::parse(&req.name)
        .map_err(|e| ApiError::invalid("invalid_name", "name", format!("{e}.")))?;
    let description = Description::parse(req.description.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid("invalid_description", "description", format!("{e}.")))?;
    let sa_role = match (req.client_type, req.role) {
        (ClientType::ServiceAccount, Some(role)) => Some(role),
        (ClientType::ServiceAccount, None) => {
            return Err(ApiError::invalid(
                "role_required",
                "role",
                "A service-account client needs a role: admin, api_admin, compliance_manager, user or external_auditor.",
            ))
        }
        (ClientType::Personal, Some(_)) => {
            return Err(ApiError::invalid(
                "role_not_allowed",
                "role",
                "A personal client always acts with its creator's current role; omit role.",
            ))
        }
        (ClientType::Personal, None) => None,
    };
    let scopes = parse_scopes(&req.scopes)?;
    check_grant(scopes, me.person.role, sa_role).map_err(grant_error)?;
    let created_at = now();
    let expires_at = secret_expiry(created_at, req.secret_expires_at, org.secret_max_lifetime)
        .map_err(|e| expiry_error(e, "secret_expires_at"))?;
    let (value, secret) = new_secret(&state, &me, expires_at);
    let client = NewClient {
        client_id: client_id.to_string(),
        org_id: me.org_id().to_owned(),
        client_type: req.client_type,
        name: name.as_str().to_owned(),
        name_key: name.key().to_owned(),
        description: description.as_str().to_owned(),
        scopes,
        created_by: me.person.id.clone(),
        service_principal: sa_role.map(|role| {
            (
                new_id(SERVICE_PRINCIPAL_PREFIX, &mut rand::rngs::OsRng),
                role,
            )
        }),
        now: created_at,
    };
    let mut audit = me.audit("api_client.create", "api_client", client_id.as_str());
    audit.details = serde_json::json!({
        "type": req.client_type,
        "name": client.name,
        "scopes": scopes.names(),
        "role": sa_role,
        "secret_id": secret.id,
    });
    state.store.create_client(&client, &secret, &audit).await?;
    let saved = state
        .store
        .get_client(me.org_id(), client_id.as_str())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let secrets = state
        .store
        .list_secrets(std::slice::from_ref(&saved.client_id))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedClient {
            client: client_dto(saved, secrets),
            secret: reveal(&value, &secret, created_at),
        }),
    ))
}

/// Whether `me` may see `client`; `Some(true)` if it is live, `Some(false)` if it is a
/// personal client of theirs that an Admin revoked.
fn visibility(me: &SignedIn, client: &ApiClient) -> Option<bool> {
    match client.client_type {
        ClientType::ServiceAccount => {
            (me.is_admin() && client.deleted_at.is_none()).then_some(true)
        }
        ClientType::Personal if client.principal_id == me.person.id => {
            if client.deleted_at.is_none() {
                Some(true)
            } else if client.revoked_by_admin {
                Some(false)
            } else {
                None
            }
        }
        ClientType::Personal => None,
    }
}

/// Loads a client the caller may see; for changes it must also be live.
async fn load(
    state: &AppState,
    me: &SignedIn,
    client_id: &str,
    for_change: bool,
) -> Result<ApiClient, ApiError> {
    if ClientId::parse(client_id).is_err() {
        return Err(ApiError::not_found());
    }
    let client = state
        .store
        .get_client(me.org_id(), client_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    match visibility(me, &client) {
        None => Err(ApiError::not_found()),
        Some(false) if for_change => Err(ApiError::new(
            StatusCode::CONFLICT,
            "client_revoked",
            "An Admin revoked this client; it can no longer be changed. Create a new client if you still need one.",
        )),
        Some(_) => Ok(client),
    }
}

/// Lists the clients the caller may see.
#[utoipa::path(get, path = "/api/v1/api-clients", tag = "api-clients", params(ListQuery),
    responses((status = 200, body = ClientList), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<ClientList>> {
    let wanted = match q.client_type.as_deref() {
        None => None,
        Some(t) => Some(ClientType::parse(t).ok_or_else(|| {
            ApiError::invalid(
                "invalid_type",
                "type",
                "type must be service_account or personal.",
            )
        })?),
    };
    let mut clients = Vec::new();
    if matches!(wanted, None | Some(ClientType::ServiceAccount)) {
        if me.is_admin() {
            clients.extend(
                state
                    .store
                    .list_clients(me.org_id(), ClientFilter::ServiceAccounts)
                    .await?,
            );
        } else if wanted.is_some() {
            require_type_allowed(&me, ClientType::ServiceAccount)?;
        }
    }
    if matches!(wanted, None | Some(ClientType::Personal)) {
        clients.extend(
            state
                .store
                .list_clients(me.org_id(), ClientFilter::PersonalOf(&me.person.id))
                .await?,
        );
    }
    Ok(Json(ClientList {
        clients: with_secrets(&state, clients).await?,
    }))
}

/// Attaches each client's secrets.
pub async fn with_secrets(
    state: &AppState,
    clients: Vec<ApiClient>,
) -> Result<Vec<ClientDto>, ApiError> {
    let ids: Vec<String> = clients.iter().map(|c| c.client_id.clone()).collect();
    let mut by_client: HashMap<String, Vec<SecretMeta>> = HashMap::new();
    for s in state.store.list_secrets(&ids).await? {
        by_client.entry(s.client_id.clone()).or_default().push(s);
    }
    Ok(clients
        .into_iter()
        .map(|c| {
            let secrets = by_client.remove(&c.client_id).unwrap_or_default();
            client_dto(c, secrets)
        })
        .collect())
}

/// Reads one client.
#[utoipa::path(get, path = "/api/v1/api-clients/{client_id}", tag = "api-clients",
    params(("client_id" = String, Path, description = "The client ID")),
    responses((status = 200, body = ClientDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    me: SignedIn,
    Path(client_id): Path<String>,
) -> ApiResult<Json<ClientDto>> {
    let client = load(&state, &me, &client_id, false).await?;
    let mut list = with_secrets(&state, vec![client]).await?;
    Ok(Json(list.remove(0)))
}

/// Changes a client's name, description, scopes or (service accounts) role.
#[utoipa::path(patch, path = "/api/v1/api-clients/{client_id}", tag = "api-clients",
    params(("client_id" = String, Path, description = "The client ID")), request_body = UpdateClientRequest,
    responses((status = 200, body = ClientDto), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: SignedIn,
    Path(client_id): Path<String>,
    ApiJson(req): ApiJson<UpdateClientRequest>,
) -> ApiResult<Json<ClientDto>> {
    let client = load(&state, &me, &client_id, true).await?;
    if req.name.is_none() && req.description.is_none() && req.scopes.is_none() && req.role.is_none()
    {
        return Err(ApiError::bad_request(
            "Nothing to change: send name, description, scopes and/or role.",
        ));
    }
    let mut changes = ClientChanges::default();
    if let Some(name) = &req.name {
        let name = ClientName::parse(name)
            .map_err(|e| ApiError::invalid("invalid_name", "name", format!("{e}.")))?;
        changes.name = Some((name.as_str().to_owned(), name.key().to_owned()));
    }
    if let Some(d) = &req.description {
        let d = Description::parse(d).map_err(|e| {
            ApiError::invalid("invalid_description", "description", format!("{e}."))
        })?;
        changes.description = Some(d.as_str().to_owned());
    }
    let sa_role = match (client.client_type, req.role) {
        (ClientType::Personal, Some(_)) => {
            return Err(ApiError::invalid(
                "role_not_allowed",
                "role",
                "A personal client always acts with its creator's current role; omit role.",
            ))
        }
        (ClientType::Personal, None) => None,
        (ClientType::ServiceAccount, role) => Some(role.unwrap_or(client.role)),
    };
    changes.role = req.role;
    if let Some(names) = &req.scopes {
        let scopes = parse_scopes(names)?;
        check_grant(scopes, me.person.role, sa_role).map_err(grant_error)?;
        changes.scopes = Some(scopes);
    }
    let mut audit = me.audit("api_client.update", "api_client", &client.client_id);
    audit.details = serde_json::json!({
        "name": changes.name.as_ref().map(|n| &n.0),
        "description_changed": changes.description.is_some(),
        "scopes": changes.scopes.map(|s| s.names()),
        "role": changes.role,
    });
    // A new role must still hold the client's scopes: the store checks that under the
    // client's lock, so a concurrent change of the role or scopes cannot slip past it.
    state
        .store
        .update_client(me.org_id(), &client.client_id, &changes, &audit)
        .await
        .map_err(|e| match e {
            WriteError::ScopeBeyondRole { scope, role } => {
                beyond_role(scope, role, changes.scopes.is_some())
            }
            other => other.into(),
        })?;
    let updated = load(&state, &me, &client_id, false).await?;
    let mut list = with_secrets(&state, vec![updated]).await?;
    Ok(Json(list.remove(0)))
}

/// Deletes a client: its secrets go at once and its service principal is deactivated.
#[utoipa::path(delete, path = "/api/v1/api-clients/{client_id}", tag = "api-clients",
    params(("client_id" = String, Path, description = "The client ID")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    me: SignedIn,
    Path(client_id): Path<String>,
) -> ApiResult<StatusCode> {
    let client = load(&state, &me, &client_id, true).await?;
    let mut audit = me.audit("api_client.delete", "api_client", &client.client_id);
    audit.details = serde_json::json!({ "type": client.client_type, "name": client.name });
    state
        .store
        .delete_client(me.org_id(), &client.client_id, &me.person.id, false, &audit)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a secret to a client (for rotation); the value is shown this once.
#[utoipa::path(post, path = "/api/v1/api-clients/{client_id}/secrets", tag = "api-clients",
    params(("client_id" = String, Path, description = "The client ID")), request_body(content = AddSecretRequest, description = "Optional"),
    responses((status = 201, body = NewSecretDto), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_secret(
    State(state): State<AppState>,
    me: SignedIn,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<NewSecretDto>)> {
    let req: AddSecretRequest = optional_json(&headers, &body)?;
    let client = load(&state, &me, &client_id, true).await?;
    let org = state
        .store
        .get_org(me.org_id())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let created_at = now();
    let expires_at = secret_expiry(created_at, req.expires_at, org.secret_max_lifetime)
        .map_err(|e| expiry_error(e, "expires_at"))?;
    let (value, secret) = new_secret(&state, &me, expires_at);
    let mut audit = me.audit("api_client.secret.create", "api_client", &client.client_id);
    audit.details = serde_json::json!({ "secret_id": secret.id, "hint": secret.hint, "expires_at": expires_at });
    state
        .store
        .add_secret(
            &client.client_id,
            &secret,
            state.config.max_live_secrets,
            created_at,
            &audit,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(reveal(&value, &secret, created_at)),
    ))
}

/// Parses an optional JSON body: empty means the defaults.
fn optional_json<T: serde::de::DeserializeOwned + Default>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let is_json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send a JSON body with `Content-Type: application/json`.",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("The JSON body does not match this endpoint: {e}"))
    })
}

/// Revokes one secret of a client; the others keep working.
#[utoipa::path(delete, path = "/api/v1/api-clients/{client_id}/secrets/{secret_id}", tag = "api-clients",
    params(("client_id" = String, Path, description = "The client ID"), ("secret_id" = String, Path, description = "The secret's id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_secret(
    State(state): State<AppState>,
    me: SignedIn,
    Path((client_id, secret_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let client = load(&state, &me, &client_id, true).await?;
    if !is_record_id(SECRET_PREFIX, &secret_id) {
        return Err(ApiError::not_found());
    }
    let mut audit = me.audit("api_client.secret.revoke", "api_client", &client.client_id);
    audit.details = serde_json::json!({ "secret_id": secret_id });
    state
        .store
        .delete_secret(&client.client_id, &secret_id, &audit)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
