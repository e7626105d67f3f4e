//! People of the organization (`/api/v1/people`), managed by Admins.

use super::now;
use crate::auth::SignedIn;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::password;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tollgate_domain::ids::{is_record_id, new_id, PERSON_PREFIX};
use tollgate_domain::{PrincipalKind, Role};
use tollgate_store::{NewPerson, Principal};
use utoipa::ToSchema;

/// A person.
#[derive(Serialize, ToSchema, Clone)]
pub struct PersonDto {
    /// `usr_…`
    pub id: String,
    /// Always `person`.
    #[serde(rename = "type")]
    pub kind: PrincipalKind,
    /// Display name.
    pub name: String,
    /// Sign-in email.
    pub email: Option<String>,
    /// Current role.
    pub role: Role,
    /// Deactivated people cannot sign in and their personal clients stop working.
    pub active: bool,
    /// Organization.
    pub org_id: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<Principal> for PersonDto {
    fn from(p: Principal) -> Self {
        PersonDto {
            id: p.id,
            kind: p.kind,
            name: p.name,
            email: p.email,
            role: p.role,
            active: p.active,
            org_id: p.org_id,
            created_at: p.created_at,
        }
    }
}

/// The organization's people.
#[derive(Serialize, ToSchema)]
pub struct PeopleList {
    /// People, by id.
    pub people: Vec<PersonDto>,
}

/// A person to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePersonRequest {
    /// Sign-in email (unique).
    pub email: String,
    /// Display name, 1–100 characters.
    pub name: String,
    /// Role; `api_admin` is for service accounts only.
    pub role: Role,
    /// At least 12 characters; omit to have one generated and returned once.
    pub password: Option<String>,
}

/// The added person, with the generated password when none was given.
#[derive(Serialize, ToSchema)]
pub struct CreatedPerson {
    /// The person.
    pub person: PersonDto,
    /// Present only when Tollgate generated the password; shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_password: Option<String>,
}

/// A change of role or active state.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePersonRequest {
    /// New role.
    pub role: Option<Role>,
    /// `false` deactivates (sessions end, personal clients stop working).
    pub active: Option<bool>,
}

/// Lists the organization's people (Admin).
#[utoipa::path(get, path = "/api/v1/people", tag = "people",
    responses((status = 200, body = PeopleList), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, me: SignedIn) -> ApiResult<Json<PeopleList>> {
    me.require_admin()?;
    let people = state
        .store
        .list_principals(me.org_id(), Some(PrincipalKind::Person), None, 10_000)
        .await?;
    Ok(Json(PeopleList {
        people: people.into_iter().map(Into::into).collect(),
    }))
}

/// Checks and normalises an email address.
pub fn parse_email(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(ApiError::invalid(
            "invalid_email",
            "email",
            "email must be an address such as ada@example.com.",
        ))
    }
}

/// Checks a person's display name.
pub fn parse_person_name(raw: &str) -> Result<String, ApiError> {
    tollgate_domain::ClientName::parse(raw)
        .map(|n| n.as_str().to_owned())
        .map_err(|e| ApiError::invalid("invalid_name", "name", format!("{e}.")))
}

/// Adds a person (Admin).
#[utoipa::path(post, path = "/api/v1/people", tag = "people", request_body = CreatePersonRequest,
    responses((status = 201, body = CreatedPerson), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: SignedIn,
    ApiJson(req): ApiJson<CreatePersonRequest>,
) -> ApiResult<(StatusCode, Json<CreatedPerson>)> {
    me.require_admin()?;
    let email = parse_email(&req.email)?;
    let name = parse_person_name(&req.name)?;
    if !req.role.may_be_held_by_a_person() {
        return Err(ApiError::invalid(
            "role_not_for_people",
            "role",
            "The api_admin role is for service-account clients only; pick admin, compliance_manager, user or external_auditor.",
        ));
    }
    let (password, generated) = match req.password {
        Some(p) if p.chars().count() < password::MIN_PASSWORD_CHARS => {
            return Err(ApiError::invalid(
                "password_too_short",
                "password",
                "password must be at least 12 characters (or omit it to have one generated).",
            ))
        }
        Some(p) => (p, false),
        None => (password::generate(), true),
    };
    let hash = password::hash(password.clone())
        .await
        .map_err(|e| ApiError::internal(e.as_ref()))?;
    let person = NewPerson {
        id: new_id(PERSON_PREFIX, &mut rand::rngs::OsRng),
        org_id: me.org_id().to_owned(),
        name,
        email,
        password_hash: hash,
        role: req.role,
        now: now(),
    };
    let mut audit = me.audit("person.create", "person", &person.id);
    audit.details = serde_json::json!({ "email": person.email, "role": person.role });
    state.store.create_person(&person, &audit).await?;
    let created = state
        .store
        .get_principal(me.org_id(), &person.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedPerson {
            person: created.into(),
            initial_password: generated.then_some(password),
        }),
    ))
}

/// Changes a person's role or deactivates them (Admin). Nobody changes their own role or
/// deactivates themselves; the last active Admin stays.
#[utoipa::path(patch, path = "/api/v1/people/{id}", tag = "people", request_body = UpdatePersonRequest,
    params(("id" = String, Path, description = "The person's id")),
    responses((status = 200, body = PersonDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdatePersonRequest>,
) -> ApiResult<Json<PersonDto>> {
    let action = match req.active {
        Some(false) => "person.deactivate",
        Some(true) if req.role.is_none() => "person.activate",
        _ => "person.update",
    };
    me.note_action(action);
    me.require_admin()?;
    if req.role.is_none() && req.active.is_none() {
        return Err(ApiError::bad_request(
            "Nothing to change: send role and/or active.",
        ));
    }
    if let Some(role) = req.role {
        if !role.may_be_held_by_a_person() {
            return Err(ApiError::invalid(
                "role_not_for_people",
                "role",
                "The api_admin role is for service-account clients only.",
            ));
        }
    }
    // An id no person could have (a NUL, a control character, the wrong shape) is answered
    // like a missing person, without a query.
    if !is_record_id(PERSON_PREFIX, &id) {
        return Err(ApiError::not_found());
    }
    if id == me.person.id {
        if req.role.is_some_and(|r| r != me.person.role) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "cannot_change_own_role",
                "Nobody can change their own role; ask another Admin.",
            ));
        }
        if req.active == Some(false) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "cannot_deactivate_self",
                "You cannot deactivate yourself; ask another Admin.",
            ));
        }
    }
    let mut audit = me.audit(action, "person", &id);
    audit.details = serde_json::json!({ "role": req.role, "active": req.active });
    // The store re-checks, under the organization's lock, that `me` is still an active
    // Admin: another Admin may have demoted them since their session was read.
    let updated = state
        .store
        .update_person(
            me.org_id(),
            &id,
            req.role,
            req.active,
            Some(&me.person.id),
            &audit,
        )
        .await?;
    Ok(Json(updated.into()))
}
