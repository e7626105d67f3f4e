//! axum integration: `AccessClaims` as an extractor, and RFC 6750 §3 error responses.
//!
//! This module owns how a bearer token is read from a request and how refusals become 401, 403
//! and 503 answers. It must not decide what a token is worth; [`Verifier::verify`] does.
//!
//! The extractor finds the [`Verifier`] in the router state through [`FromRef`], so
//! `Router::with_state(verifier)` works, as does any state struct with
//! `impl FromRef<AppState> for Verifier`.

use crate::claims::{AccessClaims, InsufficientScope};
use crate::error::VerifyError;
use crate::verifier::Verifier;
use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Why a request carrying no valid bearer token was refused; answers per RFC 6750 §3.
#[derive(Debug, thiserror::Error)]
pub enum BearerRejection {
    /// No `Authorization: Bearer` credentials at all: 401 with a `WWW-Authenticate: Bearer`
    /// challenge carrying `error="invalid_token"`, as Tollgate's contract asks for every missing or bad token.
    #[error("the request has no bearer token")]
    Missing,
    /// A token was sent and refused: 401 `invalid_token` (RFC 6750 §3.1), or 503 when the
    /// verifier could not obtain signing keys.
    #[error("the bearer token was refused")]
    Invalid(#[from] VerifyError),
}

impl IntoResponse for BearerRejection {
    fn into_response(self) -> Response {
        match self {
            // Tollgate's contract answers every missing or bad token with `invalid_token`
            // in the challenge (a stricter reading of RFC 6750 §3.1 would omit it here).
            BearerRejection::Missing => error_response(
                StatusCode::UNAUTHORIZED,
                Some(HeaderValue::from_static(
                    "Bearer error=\"invalid_token\", error_description=\"this request needs a Bearer access token\"",
                )),
                "invalid_token",
                "this request needs a Bearer access token",
            ),
            BearerRejection::Invalid(error) if !error.is_token_error() => {
                let mut response = error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    "temporarily_unavailable",
                    error.description(),
                );
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from_static("10"));
                response
            }
            BearerRejection::Invalid(error) => {
                let description = error.description();
                // The description is a fixed ASCII text without quotes or backslashes, so it is a
                // valid quoted-string (RFC 6750 §3: error_description charset).
                let challenge = HeaderValue::from_str(&format!(
                    "Bearer error=\"invalid_token\", error_description=\"{description}\""
                ))
                .unwrap_or_else(|_| HeaderValue::from_static("Bearer error=\"invalid_token\""));
                error_response(
                    StatusCode::UNAUTHORIZED,
                    Some(challenge),
                    "invalid_token",
                    description,
                )
            }
        }
    }
}

impl IntoResponse for InsufficientScope {
    /// 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="<scope>"`
    /// (RFC 6750 §3.1) and body code `insufficient_scope`.
    fn into_response(self) -> Response {
        // RFC 6749 §3.3 scope-tokens never contain `"` or `\`; anything else is left out of the
        // header rather than producing an invalid one.
        let scope_is_token = !self.scope.is_empty()
            && self
                .scope
                .bytes()
                .all(|b| b == b' ' || (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
        let challenge = if scope_is_token {
            HeaderValue::from_str(&format!(
                "Bearer error=\"insufficient_scope\", scope=\"{}\"",
                self.scope
            ))
            .ok()
        } else {
            None
        }
        .unwrap_or_else(|| HeaderValue::from_static("Bearer error=\"insufficient_scope\""));
        let message = format!("this request needs the scope `{}`", self.scope);
        error_response(
            StatusCode::FORBIDDEN,
            Some(challenge),
            "insufficient_scope",
            &message,
        )
    }
}

/// Extracts and verifies `Authorization: Bearer <token>` (RFC 6750 §2.1).
///
/// A handler taking `AccessClaims` runs only for valid tokens; otherwise the request is answered
/// with [`BearerRejection`].
impl<S> FromRequestParts<S> for AccessClaims
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = BearerRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)?.ok_or(BearerRejection::Missing)?;
        verify(token, state).await
    }
}

/// `Option<AccessClaims>`: `None` when no bearer token was sent, a refusal when one was sent
/// and is not valid. For endpoints that serve anonymous callers too.
impl<S> OptionalFromRequestParts<S> for AccessClaims
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = BearerRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match bearer_token(&parts.headers)? {
            None => Ok(None),
            Some(token) => verify(token, state).await.map(Some),
        }
    }
}

async fn verify<S>(token: &str, state: &S) -> Result<AccessClaims, BearerRejection>
where
    Verifier: FromRef<S>,
{
    verify_with(&Verifier::from_ref(state), token).await
}

/// Verifies `token`, logging (at debug) why a refused one was refused; shared by the
/// extractor and [`crate::RequireBearerLayer`].
pub(crate) async fn verify_with(
    verifier: &Verifier,
    token: &str,
) -> Result<AccessClaims, BearerRejection> {
    verifier.verify(token).await.map_err(|error| {
        tracing::debug!(error = %error, "refused a bearer token");
        BearerRejection::Invalid(error)
    })
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive,
/// RFC 7235 §2.1), `Ok(None)` when there is no such header or it uses another scheme.
///
/// A Bearer header whose value is not visible ASCII or whose token is empty is refused as
/// malformed.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, BearerRejection> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        BearerRejection::Invalid(VerifyError::Malformed {
            reason: "the Authorization header is not `Bearer <token>`",
        })
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = token.trim_matches(' ');
    if token.is_empty() || token.contains(' ') {
        return Err(malformed());
    }
    Ok(Some(token))
}

/// One JSON error shape for every refusal: `{"error":{"code","message"}}`.
fn error_response(
    status: StatusCode,
    challenge: Option<HeaderValue>,
    code: &str,
    message: &str,
) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } }).to_string();
    let mut response = (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response();
    if let Some(challenge) = challenge {
        response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
    }
    response
}
