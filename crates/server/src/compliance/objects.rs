//! `/v1/{programs,controls,risks,tasks,audits}`: list, get, create, update and delete.
//!
//! Every handler first admits the token for the operation's scope ([`super::authorize`]),
//! then applies the record rules (a record the caller may not see is 404, byte-identical to a
//! missing one and to another organization's), then the request's fields: restricted fields,
//! fields that do not belong to the kind, and the ownership rule (owners and assignees are
//! active people of the organization; see `tollgate_domain::compliance`).

use super::{authorize, next_cursor, page, parse_query, Caller, V1Result};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::management::now;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tollgate_domain::compliance::{
    check_auditor, check_responsible, default_owner, may_see_record, may_write_restricted_fields,
    only_listed_audits, parse_long_text, parse_object_name, ObjectKind, ObjectTextError,
    PrincipalFacts, ResponsibilityError, ResponsibleField, AUDITOR_LOCKED_FIELDS, MAX_AUDITORS,
};
use tollgate_domain::ids::{is_principal_id, is_record_id, new_id};
use tollgate_domain::scope::Action;
use tollgate_store::compliance::{
    ComplianceChanges, ComplianceObject, ComplianceWriteError, NewComplianceObject,
};
use tollgate_token_verifier::AccessClaims;
use utoipa::{IntoParams, ToSchema};

/// A compliance object as the caller may see it.
#[derive(Serialize, ToSchema)]
pub struct ObjectDto {
    /// `prg_…`, `ctl_…`, `rsk_…`, `tsk_…` or `aud_…`
    pub id: String,
    /// `program`, `control`, `risk`, `task` or `audit`.
    #[serde(rename = "type")]
    #[schema(schema_with = object_type_schema)]
    pub kind: &'static str,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Restricted: present only for Admin and API admin principals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_notes: Option<String>,
    /// The responsible person.
    pub owner_id: String,
    /// Controls: their program.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program_id: Option<String>,
    /// Tasks: the person it is assigned to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<String>,
    /// Audits: principals listed as auditors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auditor_ids: Option<Vec<String>>,
    /// The principal that created it (a person for personal clients, the service principal
    /// for service accounts).
    pub created_by: String,
    /// The API client it was created through.
    pub created_via_client_id: String,
    /// The principal of the last change.
    pub updated_by: String,
    /// The API client of the last change.
    pub via_client_id: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl ObjectDto {
    /// The object as `caller` may see it (restricted fields only for Admin and API admin).
    pub fn view(o: ComplianceObject, caller: &Caller) -> ObjectDto {
        let restricted = caller.principal.role.sees_restricted_fields();
        ObjectDto {
            id: o.id,
            kind: o.kind.as_str(),
            name: o.name,
            description: o.description,
            internal_notes: restricted.then_some(o.internal_notes),
            owner_id: o.owner_id,
            program_id: o.program_id,
            assignee_id: o.assignee_id,
            auditor_ids: (o.kind == ObjectKind::Audit).then_some(o.auditor_ids),
            created_by: o.created_by,
            created_via_client_id: o.created_via_client_id,
            updated_by: o.updated_by,
            via_client_id: o.via_client_id,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// The schema of [`ObjectDto::kind`]: the wire names of [`ObjectKind::ALL`].
fn object_type_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ObjectKind::ALL.map(ObjectKind::as_str)))
        .description(Some("`program`, `control`, `risk`, `task` or `audit`."))
        .build()
}

/// A page of objects.
#[derive(Serialize, ToSchema)]
pub struct ObjectPage {
    /// Objects, by id.
    pub data: Vec<ObjectDto>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// The body of a create or update; which fields apply depends on the kind. On update, an
/// absent (or `null`) field is left alone; `auditor_ids` replaces the whole list.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectBody {
    /// 1–200 characters; required on create.
    pub name: Option<String>,
    /// Up to 10,000 characters.
    pub description: Option<String>,
    /// Restricted; only Admins may write it.
    pub internal_notes: Option<String>,
    /// An active person of the organization. On create, a personal client's person by
    /// default; a service-account client must pass it.
    pub owner_id: Option<String>,
    /// Controls only (required on create): a program of the organization.
    pub program_id: Option<String>,
    /// Tasks only: an active person; on create, the owner by default.
    pub assignee_id: Option<String>,
    /// Audits only: active principals of the organization (service principals allowed).
    pub auditor_ids: Option<Vec<String>>,
}

/// List parameters. `limit` is read as text so that a bad one gets the API's own 400
/// (`invalid_limit`); the document shows the integer it must be.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Objects per page, 1–500 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// `next_cursor` of the previous page, unchanged.
    cursor: Option<String>,
}

fn kind_of(collection: &str) -> Result<ObjectKind, ApiError> {
    ObjectKind::ALL
        .into_iter()
        .find(|k| k.collection() == collection)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such endpoint."))
}

const PASS_A_PERSON: &str = "Pass the id of an active person of your organization (a `usr_…` id; GET /v1/users?type=person lists them).";

fn responsibility_error(e: ResponsibilityError) -> ApiError {
    let code_422 = StatusCode::UNPROCESSABLE_ENTITY;
    match e {
        ResponsibilityError::ServicePrincipalCannotOwn {
            field,
            omitted: true,
        } => ApiError::new(
            code_422,
            "service_principal_cannot_own",
            format!("A service-account client must pass {field}: a service principal cannot own work, so every object needs a person responsible for it. {PASS_A_PERSON}"),
        )
        .field(field),
        ResponsibilityError::ServicePrincipalCannotOwn { field, .. } => ApiError::new(
            code_422,
            "service_principal_cannot_own",
            format!("{field} names a service principal, and a service principal cannot own or be assigned work. {PASS_A_PERSON}"),
        )
        .field(field),
        ResponsibilityError::UnknownPrincipal { field } => ApiError::new(
            code_422,
            "unknown_principal",
            if field == "auditor_ids" {
                "auditor_ids names no principal of your organization; list ids from GET /v1/users.".to_owned()
            } else {
                format!("{field} names no principal of your organization. {PASS_A_PERSON}")
            },
        )
        .field(field),
        ResponsibilityError::Inactive { field } => ApiError::new(
            code_422,
            "inactive_principal",
            format!("{field} names a deactivated principal; name an active one (GET /v1/users shows `active`)."),
        )
        .field(field),
    }
}

fn write_error(e: ComplianceWriteError) -> ApiError {
    match e {
        ComplianceWriteError::NotFound => ApiError::not_found(),
        ComplianceWriteError::ProgramNotFound => unknown_program(),
        ComplianceWriteError::PrincipalChanged { field } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "inactive_principal",
            format!("{field} names a principal that was just deactivated or removed; name an active one."),
        )
        .field(field),
        ComplianceWriteError::ProgramHasControls => ApiError::new(
            StatusCode::CONFLICT,
            "program_has_controls",
            "This program still has controls; delete them or move them to another program (PATCH /v1/controls/{id} {\"program_id\": …}) first.",
        ),
        ComplianceWriteError::Store(s) => s.into(),
    }
}

fn unknown_program() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_program",
        "program_id names no program of your organization; list them with GET /v1/programs.",
    )
    .field("program_id")
}

fn text_error(e: ObjectTextError) -> ApiError {
    ApiError::invalid("invalid_field", e.field(), format!("{e}."))
}

fn not_allowed(field: &'static str, kind: ObjectKind) -> ApiError {
    ApiError::invalid(
        "field_not_allowed",
        field,
        format!("A {} has no {field}.", kind.as_str()),
    )
}

/// Refuses fields that do not belong to `kind`.
fn check_fields_apply(kind: ObjectKind, body: &ObjectBody) -> Result<(), ApiError> {
    if body.program_id.is_some() && kind != ObjectKind::Control {
        return Err(not_allowed("program_id", kind));
    }
    if body.assignee_id.is_some() && kind != ObjectKind::Task {
        return Err(not_allowed("assignee_id", kind));
    }
    if body.auditor_ids.is_some() && kind != ObjectKind::Audit {
        return Err(not_allowed("auditor_ids", kind));
    }
    // A malformed program id names no program; it is refused before any lookup.
    if body
        .program_id
        .as_deref()
        .is_some_and(|id| !is_record_id(ObjectKind::Program.id_prefix(), id))
    {
        return Err(unknown_program());
    }
    Ok(())
}

/// Restricted fields are written only by roles that can read them back.
fn check_restricted(caller: &Caller, body: &ObjectBody) -> Result<(), ApiError> {
    if body.internal_notes.is_some() && !may_write_restricted_fields(caller.principal.role) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "restricted_field",
            "internal_notes is a restricted field: only Admin principals may write it. Leave it out.",
        )
        .field("internal_notes"));
    }
    Ok(())
}

/// The distinct auditors of a request, at most [`MAX_AUDITORS`].
fn auditor_list(ids: &[String]) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if !out.contains(id) {
            out.push(id.clone());
        }
    }
    if out.len() > MAX_AUDITORS {
        return Err(ApiError::invalid(
            "too_many_auditors",
            "auditor_ids",
            format!("An audit lists at most {MAX_AUDITORS} auditors."),
        ));
    }
    Ok(out)
}

/// Applies the ownership rule to the owner and assignee named, and checks the auditors.
async fn check_principals(
    state: &AppState,
    caller: &Caller,
    owner: Option<&str>,
    assignee: Option<&str>,
    auditors: Option<&[String]>,
) -> Result<(), ApiError> {
    let mut ids: Vec<String> = owner
        .into_iter()
        .chain(assignee)
        .map(str::to_owned)
        .collect();
    ids.extend(auditors.unwrap_or_default().iter().cloned());
    if ids.is_empty() {
        return Ok(());
    }
    // A malformed id names nobody: it is left out of the lookup (so it never reaches the
    // database) and is then refused as unknown, like an id of another organization.
    ids.retain(|id| is_principal_id(id));
    let rows = if ids.is_empty() {
        Vec::new()
    } else {
        state.store.principals_by_ids(caller.org(), &ids).await?
    };
    let found: HashMap<String, PrincipalFacts> = rows
        .into_iter()
        .map(|p| {
            (
                p.id,
                PrincipalFacts {
                    kind: p.kind,
                    active: p.active,
                },
            )
        })
        .collect();
    if let Some(owner) = owner {
        check_responsible(ResponsibleField::Owner, found.get(owner).copied())
            .map_err(responsibility_error)?;
    }
    if let Some(assignee) = assignee {
        check_responsible(ResponsibleField::Assignee, found.get(assignee).copied())
            .map_err(responsibility_error)?;
    }
    for auditor in auditors.unwrap_or_default() {
        check_auditor(found.get(auditor).copied()).map_err(responsibility_error)?;
    }
    Ok(())
}

/// The object if it exists in the caller's organization and the caller's record rules let it
/// see it; otherwise the one 404 every missing object gets.
async fn load_visible(
    state: &AppState,
    caller: &Caller,
    kind: ObjectKind,
    id: &str,
) -> Result<ComplianceObject, ApiError> {
    let object = if is_record_id(kind.id_prefix(), id) {
        state
            .store
            .get_compliance_object(caller.org(), kind, id)
            .await?
    } else {
        None
    };
    object
        .filter(|o| {
            may_see_record(
                caller.principal.role,
                &caller.principal.id,
                kind,
                &o.auditor_ids,
            )
        })
        .ok_or_else(ApiError::not_found)
}

/// Lists objects by id (`limit` 1–500, default 100; `cursor` from the previous page).
/// External auditors get only the audits that list them.
pub async fn list(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    claims: AccessClaims,
    RawQuery(query): RawQuery,
) -> V1Result<Json<ObjectPage>> {
    let kind = kind_of(&collection)?;
    let caller = authorize(&state, claims, kind.scope(Action::Read)).await?;
    let q: ListQuery = parse_query(query.as_deref())?;
    let page = page(
        &state,
        kind.collection(),
        caller.org(),
        q.limit.as_deref(),
        q.cursor.as_deref(),
    )?;
    let listed = only_listed_audits(caller.principal.role).then_some(caller.principal.id.as_str());
    let mut rows = state
        .store
        .list_compliance_objects(
            caller.org(),
            kind,
            page.after.as_deref(),
            page.limit + 1,
            listed,
        )
        .await?;
    let more = rows.len() as i64 > page.limit;
    rows.truncate(page.limit as usize);
    // The store already filtered; the record rule is applied again so no row can slip by.
    rows.retain(|o| {
        may_see_record(
            caller.principal.role,
            &caller.principal.id,
            kind,
            &o.auditor_ids,
        )
    });
    let next = next_cursor(
        &state,
        kind.collection(),
        caller.org(),
        more,
        rows.last().map(|o| o.id.as_str()),
    );
    Ok(Json(ObjectPage {
        data: rows
            .into_iter()
            .map(|o| ObjectDto::view(o, &caller))
            .collect(),
        next_cursor: next,
    }))
}

/// Reads one object.
pub async fn get(
    State(state): State<AppState>,
    Path((collection, id)): Path<(String, String)>,
    claims: AccessClaims,
) -> V1Result<Json<ObjectDto>> {
    let kind = kind_of(&collection)?;
    let caller = authorize(&state, claims, kind.scope(Action::Read)).await?;
    let object = load_visible(&state, &caller, kind, &id).await?;
    Ok(Json(ObjectDto::view(object, &caller)))
}

/// Creates an object owned by a person: `owner_id`, or a personal client's own person.
pub async fn create(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    claims: AccessClaims,
    body: Result<ApiJson<ObjectBody>, ApiError>,
) -> V1Result<(StatusCode, Json<ObjectDto>)> {
    let kind = kind_of(&collection)?;
    let caller = authorize(&state, claims, kind.scope(Action::Create)).await?;
    let ApiJson(body) = body?;
    check_fields_apply(kind, &body)?;
    check_restricted(&caller, &body)?;
    let name = parse_object_name(
        body.name
            .as_deref()
            .ok_or_else(|| ApiError::invalid("missing_field", "name", "name is required."))?,
    )
    .map_err(text_error)?;
    let description = parse_long_text("description", body.description.as_deref().unwrap_or(""))
        .map_err(text_error)?;
    let internal_notes = parse_long_text(
        "internal_notes",
        body.internal_notes.as_deref().unwrap_or(""),
    )
    .map_err(text_error)?;
    if kind == ObjectKind::Control && body.program_id.is_none() {
        return Err(ApiError::invalid(
            "missing_field",
            "program_id",
            "A control belongs to a program: pass program_id (GET /v1/programs lists them).",
        )
        .into());
    }
    let owner_id = default_owner(
        caller.principal.kind,
        &caller.principal.id,
        body.owner_id.as_deref(),
    )
    .map_err(responsibility_error)?;
    let assignee_id = (kind == ObjectKind::Task)
        .then(|| body.assignee_id.clone().unwrap_or_else(|| owner_id.clone()));
    let auditor_ids = auditor_list(body.auditor_ids.as_deref().unwrap_or_default())?;
    check_principals(
        &state,
        &caller,
        Some(&owner_id),
        assignee_id.as_deref(),
        Some(&auditor_ids),
    )
    .await?;
    let new = NewComplianceObject {
        id: new_id(kind.id_prefix(), &mut rand::rngs::OsRng),
        org_id: caller.org().to_owned(),
        kind,
        name,
        description,
        internal_notes,
        owner_id,
        program_id: body.program_id,
        assignee_id,
        auditor_ids,
        actor_id: caller.principal.id.clone(),
        client_id: caller.claims.client_id.clone(),
        now: now(),
    };
    let created = state
        .store
        .create_compliance_object(&new)
        .await
        .map_err(write_error)?;
    Ok((StatusCode::CREATED, Json(ObjectDto::view(created, &caller))))
}

/// Changes some fields of an object. External auditors may change an audit's name and
/// description, not its owner or auditors.
pub async fn update(
    State(state): State<AppState>,
    Path((collection, id)): Path<(String, String)>,
    claims: AccessClaims,
    body: Result<ApiJson<ObjectBody>, ApiError>,
) -> V1Result<Json<ObjectDto>> {
    let kind = kind_of(&collection)?;
    let caller = authorize(&state, claims, kind.scope(Action::Update)).await?;
    load_visible(&state, &caller, kind, &id).await?;
    let ApiJson(body) = body?;
    check_fields_apply(kind, &body)?;
    check_restricted(&caller, &body)?;
    if only_listed_audits(caller.principal.role) {
        for (field, present) in AUDITOR_LOCKED_FIELDS
            .into_iter()
            .zip([body.owner_id.is_some(), body.auditor_ids.is_some()])
        {
            if present {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "field_not_permitted",
                    format!("An External auditor cannot change {field}; ask the audit's owner."),
                )
                .field(field)
                .into());
            }
        }
    }
    let changes = ComplianceChanges {
        name: body
            .name
            .as_deref()
            .map(parse_object_name)
            .transpose()
            .map_err(text_error)?,
        description: body
            .description
            .as_deref()
            .map(|t| parse_long_text("description", t))
            .transpose()
            .map_err(text_error)?,
        internal_notes: body
            .internal_notes
            .as_deref()
            .map(|t| parse_long_text("internal_notes", t))
            .transpose()
            .map_err(text_error)?,
        owner_id: body.owner_id,
        program_id: body.program_id,
        assignee_id: body.assignee_id,
        auditor_ids: body.auditor_ids.as_deref().map(auditor_list).transpose()?,
    };
    if changes.name.is_none()
        && changes.description.is_none()
        && changes.internal_notes.is_none()
        && changes.owner_id.is_none()
        && changes.program_id.is_none()
        && changes.assignee_id.is_none()
        && changes.auditor_ids.is_none()
    {
        return Err(ApiError::bad_request(
            "Nothing to change: send at least one field of the object.",
        )
        .into());
    }
    check_principals(
        &state,
        &caller,
        changes.owner_id.as_deref(),
        changes.assignee_id.as_deref(),
        changes.auditor_ids.as_deref(),
    )
    .await?;
    let updated = state
        .store
        .update_compliance_object(
            caller.org(),
            kind,
            &id,
            only_listed_audits(caller.principal.role).then_some(caller.principal.id.as_str()),
            &changes,
            &caller.principal.id,
            &caller.claims.client_id,
            now(),
        )
        .await
        .map_err(write_error)?;
    Ok(Json(ObjectDto::view(updated, &caller)))
}

/// Deletes an object (a program only once it has no controls).
pub async fn remove(
    State(state): State<AppState>,
    Path((collection, id)): Path<(String, String)>,
    claims: AccessClaims,
) -> V1Result<StatusCode> {
    let kind = kind_of(&collection)?;
    let caller = authorize(&state, claims, kind.scope(Action::Delete)).await?;
    load_visible(&state, &caller, kind, &id).await?;
    state
        .store
        .delete_compliance_object(caller.org(), kind, &id)
        .await
        .map_err(write_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The OpenAPI description of each collection's operations. The handlers above serve every
/// collection from one route (`/v1/{collection}`), but the document names each concrete path
/// with its own scope, so this module declares one documented (never routed, never called)
/// function per path and verb. Shapes come from the DTOs above; only the paths, scopes and
/// wording are spelled out here.
pub mod paths {
    use super::{ListQuery, ObjectBody, ObjectDto, ObjectPage};
    use crate::compliance::openapi::{
        BadRequest, Conflict, Forbidden, NotFound, Unauthorized, Unprocessable,
    };

    macro_rules! collection_paths {
        ($(
            $kind:tt at $collection:tt and $item:tt, id $id_example:tt:
            fn $list:ident, $get:ident, $create:ident, $update:ident, $remove:ident;
            scopes $read:tt, $create_scope:tt, $update_scope:tt, $delete_scope:tt;
            delete also refuses [$($delete_refusal:ident),*];
        )*) => {$(
            #[utoipa::path(get, path = $collection, tag = "compliance", params(ListQuery),
                summary = concat!("List ", $kind, "s"),
                description = concat!("Lists the organization's ", $kind, "s by id, a page at a time (`limit` 1–500, default 100; `cursor` from the previous page). External auditors get only the audits that list them."),
                security(("bearer_access_token" = [$read])),
                responses((status = 200, body = ObjectPage), BadRequest, Unauthorized, Forbidden))]
            pub fn $list() {}

            #[utoipa::path(get, path = $item, tag = "compliance",
                params(("id" = String, Path, description = concat!("The ", $kind, "'s id (`", $id_example, "`)"))),
                summary = concat!("Read a ", $kind),
                description = "Reads one object. Restricted fields (`internal_notes`) appear only for Admin and API admin principals.",
                security(("bearer_access_token" = [$read])),
                responses((status = 200, body = ObjectDto), Unauthorized, Forbidden, NotFound))]
            pub fn $get() {}

            #[utoipa::path(post, path = $collection, tag = "compliance", request_body = ObjectBody,
                summary = concat!("Create a ", $kind),
                description = "Creates an object owned by a person: `owner_id`, or by default a personal client's own person. A service-account client must pass `owner_id` naming a person; a service principal as owner or assignee is refused with 422 `service_principal_cannot_own`. Fields of other kinds are refused with 422 `field_not_allowed`.",
                security(("bearer_access_token" = [$create_scope])),
                responses((status = 201, body = ObjectDto), BadRequest, Unauthorized, Forbidden, Unprocessable))]
            pub fn $create() {}

            #[utoipa::path(patch, path = $item, tag = "compliance", request_body = ObjectBody,
                params(("id" = String, Path, description = concat!("The ", $kind, "'s id (`", $id_example, "`)"))),
                summary = concat!("Update a ", $kind),
                description = "Changes the fields sent; absent or `null` fields are left alone and `auditor_ids` replaces the whole list. The ownership rule applies to a new owner or assignee. External auditors may change an audit's name and description, not its owner or auditors.",
                security(("bearer_access_token" = [$update_scope])),
                responses((status = 200, body = ObjectDto), BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable))]
            pub fn $update() {}

            #[utoipa::path(delete, path = $item, tag = "compliance",
                params(("id" = String, Path, description = concat!("The ", $kind, "'s id (`", $id_example, "`)"))),
                summary = concat!("Delete a ", $kind),
                description = "Deletes the object (a program only once it has no controls).",
                security(("bearer_access_token" = [$delete_scope])),
                responses((status = 204, description = "Deleted"), Unauthorized, Forbidden, NotFound $(, $delete_refusal)*))]
            pub fn $remove() {}
        )*};
    }

    collection_paths! {
        "program" at "/v1/programs" and "/v1/programs/{id}", id "prg_…":
        fn list_programs, get_program, create_program, update_program, delete_program;
        scopes "program.read", "program.create", "program.update", "program.delete";
        delete also refuses [Conflict];

        "control" at "/v1/controls" and "/v1/controls/{id}", id "ctl_…":
        fn list_controls, get_control, create_control, update_control, delete_control;
        scopes "control.read", "control.create", "control.update", "control.delete";
        delete also refuses [];

        "risk" at "/v1/risks" and "/v1/risks/{id}", id "rsk_…":
        fn list_risks, get_risk, create_risk, update_risk, delete_risk;
        scopes "risk.read", "risk.create", "risk.update", "risk.delete";
        delete also refuses [];

        "task" at "/v1/tasks" and "/v1/tasks/{id}", id "tsk_…":
        fn list_tasks, get_task, create_task, update_task, delete_task;
        scopes "task.read", "task.create", "task.update", "task.delete";
        delete also refuses [];

        "audit" at "/v1/audits" and "/v1/audits/{id}", id "aud_…":
        fn list_audits, get_audit, create_audit, update_audit, delete_audit;
        scopes "audit.read", "audit.create", "audit.update", "audit.delete";
        delete also refuses [];
    }
}
