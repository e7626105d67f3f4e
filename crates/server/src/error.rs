//! Turns every failure into a response, in one place.
//!
//! The management and compliance APIs answer `{"error":{"code","message","field"?}}`; the
//! code is stable and machine-readable, the message is for a person. Internal failures
//! answer an opaque 500 whose body repeats the request id under which the cause chain is
//! logged (see [`crate::startup`]'s request-context middleware); internal error text never
//! reaches a client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use tollgate_store::{StoreError, WriteError};
use utoipa::ToSchema;

/// The error body every `/api` and `/v1` route uses.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, such as `name_taken`.
    pub code: &'static str,
    /// What happened and what to do, for a person.
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// For internal errors: the id under which the cause was logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error answer of the JSON APIs.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<&'static str>,
    internal: Option<String>,
}

/// Carried on every error response: its stable code and field, so that middleware (the
/// audit of refused changes) can read them without parsing the body.
#[derive(Clone, Copy, Debug)]
pub struct ErrorCode {
    /// The stable code, such as `name_taken`.
    pub code: &'static str,
    /// The request field at fault, when there is one.
    pub field: Option<&'static str>,
}

/// Carried on a 500 response so the request-context middleware can log the cause with the
/// request id and put that id in the body.
#[derive(Clone, Debug)]
pub struct InternalCause(pub String);

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            internal: None,
        }
    }

    /// Names the request field at fault.
    pub fn field(mut self, field: &'static str) -> ApiError {
        self.field = Some(field);
        self
    }

    /// 400 `invalid_request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 422 with a code, naming the field.
    pub fn invalid(
        code: &'static str,
        field: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).field(field)
    }

    /// 404 `not_found`, identical for missing objects and other organizations' objects.
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such object.")
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 401 `unauthenticated`.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Sign in first: send the session cookie or `Authorization: Bearer <session token>` from POST /api/v1/sessions.",
        )
    }

    /// 500 with an opaque body; `cause` is logged, never sent.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> ApiError {
        let mut chain = cause.to_string();
        let mut source = cause.source();
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_error",
            message: "An internal error occurred. Nothing was changed by this request unless its effect is visible; quote the request id to your operator.".into(),
            field: None,
            internal: Some(chain),
        }
    }

    /// 503 when the database cannot be reached.
    pub fn unavailable(cause: &(dyn std::error::Error + 'static)) -> ApiError {
        let mut e = ApiError::internal(cause);
        e.status = StatusCode::SERVICE_UNAVAILABLE;
        e.code = "unavailable";
        e.message = "The service is temporarily unavailable; retry shortly.".into();
        e
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        if let StoreError::UnstorableText(_) = e {
            // A safety net: handlers check inputs first, so reaching this means one was
            // missed. The caller can fix it; the cause is still logged.
            tracing::warn!(error = %e, "the database refused text of a request");
            return ApiError::bad_request(
                "The request contains characters that cannot be stored (such as U+0000); remove them and retry.",
            );
        }
        if e.is_unavailable() {
            ApiError::unavailable(&e)
        } else {
            ApiError::internal(&e)
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> ApiError {
        match e {
            WriteError::Store(s) => s.into(),
            WriteError::NotFound => ApiError::not_found(),
            WriteError::DraftNotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "draft_not_found",
                "No open draft with this client_id and type belongs to you: it was cancelled, expired (drafts live one hour), already saved, or opened by someone else. Open a new one with POST /api/v1/api-clients/drafts.",
            )
            .field("client_id"),
            WriteError::NameTaken => ApiError::new(
                StatusCode::CONFLICT,
                "name_taken",
                "Another client of this type in your organization already has this name (names are compared ignoring case). Choose another name.",
            )
            .field("name"),
            WriteError::EmailTaken => ApiError::new(
                StatusCode::CONFLICT,
                "email_taken",
                "A person with this email already exists.",
            )
            .field("email"),
            WriteError::LastAdmin => ApiError::new(
                StatusCode::CONFLICT,
                "last_admin",
                "This is the organization's last active Admin; make someone else an Admin first.",
            ),
            WriteError::SecretLimit => ApiError::new(
                StatusCode::CONFLICT,
                "secret_limit_reached",
                "This client already holds the maximum number of live secrets; revoke one before adding another.",
            ),
            WriteError::ScopeBeyondRole { scope, role } => ApiError::invalid(
                "scope_not_allowed_for_role",
                "scopes",
                format!("`{scope}` is not permitted for the {role} role."),
            ),
            WriteError::ActorNotAdmin => {
                ApiError::forbidden("Only an Admin of the organization can do this.")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
                request_id: None,
            },
        };
        let code = ErrorCode {
            code: self.code,
            field: self.field,
        };
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(code);
        if let Some(cause) = self.internal {
            response.extensions_mut().insert(InternalCause(cause));
        }
        response
    }
}

/// Result of a JSON API handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_the_database_cannot_store_is_a_400_not_a_500() {
        let refused = sqlx::Error::Protocol("stand-in for SQLSTATE 22021".into());
        let e = ApiError::from(StoreError::UnstorableText(refused));
        assert_eq!(
            (e.status(), e.code()),
            (StatusCode::BAD_REQUEST, "invalid_request")
        );
        assert!(e.message.contains("cannot be stored"));
        assert!(e.internal.is_none());
    }
}
