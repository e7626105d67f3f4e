//! The refusals every `/v1` operation documents in the OpenAPI document, as reusable
//! `IntoResponses` types so each operation lists them by name and all share one wording.
//!
//! Documentation only: handlers answer through [`super::V1Error`] and [`crate::error::ApiError`];
//! nothing here is constructed at run time.

use crate::error::ErrorBody;
use utoipa::IntoResponses;

/// 400: a malformed request (unknown or bad query parameter, bad `limit` or `cursor`, JSON
/// that does not parse or carries unknown fields, an update that changes nothing).
#[derive(IntoResponses)]
#[response(status = 400)]
pub struct BadRequest(pub ErrorBody);

/// 401 `invalid_token`: no Bearer token, or one that is malformed, badly signed, expired, for
/// another audience, or no longer live (client deleted, person deactivated, M2M access turned
/// off, token revoked).
#[derive(IntoResponses)]
#[response(status = 401, headers(("WWW-Authenticate" = String,
    description = "`Bearer error=\"invalid_token\", error_description=\"…\"` (RFC 6750 §3.1)")))]
pub struct Unauthorized(pub ErrorBody);

/// 403: `insufficient_scope` (the token lacks the operation's scope, or the principal's current
/// role no longer permits it; the challenge names the scope), or a field the caller's role may
/// not write (`restricted_field`, `field_not_permitted`).
#[derive(IntoResponses)]
#[response(status = 403, headers(("WWW-Authenticate" = String,
    description = "On `insufficient_scope`: `Bearer error=\"insufficient_scope\", scope=\"<scope>\"` (RFC 6750 §3.1)")))]
pub struct Forbidden(pub ErrorBody);

/// 404 `not_found`: no such record in the caller's organization, or one its record rules hide
/// (identical answers, so existence never leaks).
#[derive(IntoResponses)]
#[response(status = 404)]
pub struct NotFound(pub ErrorBody);

/// 409 `program_has_controls`: the program still has controls.
#[derive(IntoResponses)]
#[response(status = 409)]
pub struct Conflict(pub ErrorBody);

/// 422: a field's value is refused — `invalid_field`, `missing_field`, `field_not_allowed`,
/// `too_many_auditors`, `unknown_program`, `unknown_principal`, `inactive_principal`, or
/// `service_principal_cannot_own` (owners and assignees are active people; pass a person's id).
#[derive(IntoResponses)]
#[response(status = 422)]
pub struct Unprocessable(pub ErrorBody);
