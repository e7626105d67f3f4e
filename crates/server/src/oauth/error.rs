//! OAuth error answers: RFC 6749 §5.2 bodies (`error`, `error_description`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use tollgate_store::StoreError;
use utoipa::ToSchema;

/// The body of every OAuth error answer (RFC 6749 §5.2; RFC 7009 and RFC 7662 reuse it).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type`, `invalid_scope`,
    /// `invalid_target` (RFC 8707), `slow_down` or `temporarily_unavailable`.
    #[schema(example = "invalid_client")]
    pub error: &'static str,
    /// What happened and what to do, for a person.
    pub error_description: String,
}

/// 401 `invalid_client` as documented in the OpenAPI document (documentation only).
#[derive(utoipa::IntoResponses)]
#[response(status = 401, description = "`invalid_client`: the same answer whatever was wrong (unknown client, wrong or expired secret, M2M access off, deactivated creator)",
    headers(("WWW-Authenticate" = String, description = "`Basic realm=\"tollgate\", charset=\"UTF-8\"`")))]
pub struct InvalidClient(pub OAuthErrorBody);

/// 429 `slow_down` as documented in the OpenAPI document (documentation only).
#[derive(utoipa::IntoResponses)]
#[response(status = 429, description = "`slow_down`: too many failed authentications from this client or address",
    headers(("Retry-After" = u64, description = "Seconds to wait")))]
pub struct SlowDown(pub OAuthErrorBody);

/// 503 `temporarily_unavailable` as documented in the OpenAPI document (documentation only).
#[derive(utoipa::IntoResponses)]
#[response(status = 503, description = "`temporarily_unavailable`: storage or signing failed; the cause is logged, not sent",
    headers(("Retry-After" = u64, description = "Seconds to wait")))]
pub struct Unavailable(pub OAuthErrorBody);

/// An error of the OAuth endpoints.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<u64>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            status,
            error,
            description: description.into(),
            retry_after: None,
        }
    }

    /// 400 `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// 401 `invalid_client`, identical whatever the reason (RFC 6749 §5.2), with
    /// `WWW-Authenticate: Basic`.
    pub fn invalid_client() -> OAuthError {
        OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        )
    }

    /// 400 `unsupported_grant_type`.
    pub fn unsupported_grant_type() -> OAuthError {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only grant_type=client_credentials is supported.",
        )
    }

    /// 400 `invalid_scope`.
    pub fn invalid_scope(description: impl Into<String>) -> OAuthError {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }

    /// 400 `invalid_target` (RFC 8707 §2).
    pub fn invalid_target(description: impl Into<String>) -> OAuthError {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_target", description)
    }

    /// 429 with `Retry-After`.
    pub fn slow_down(retry_after: u64) -> OAuthError {
        let mut e = OAuthError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "slow_down",
            "Too many failed authentications; retry later.",
        );
        e.retry_after = Some(retry_after.max(1));
        e
    }

    /// 503 `temporarily_unavailable`; the cause is logged, not sent.
    pub fn unavailable(cause: &(dyn std::error::Error + 'static)) -> OAuthError {
        tracing::error!(error = %cause, source = ?cause.source().map(|s| s.to_string()), "storage failure on an OAuth endpoint");
        let mut e = OAuthError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "The service is temporarily unavailable; retry shortly.",
        );
        e.retry_after = Some(1);
        e
    }

    /// The OAuth error code.
    pub fn error(&self) -> &'static str {
        self.error
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> OAuthError {
        OAuthError::unavailable(&e)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = OAuthErrorBody {
            error: self.error,
            error_description: self.description,
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tollgate\", charset=\"UTF-8\""),
            );
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
