//! A tower [`Layer`] that guards every route beneath it with a bearer token.
//!
//! This module owns [`RequireBearerLayer`] and its service [`RequireBearer`]: reading the
//! token, verifying it, checking required scopes, answering refusals itself (RFC 6750 §3) and
//! handing the typed claims to the inner service in the request extensions. It must not decide
//! what a token is worth ([`Verifier::verify`] does) nor shape refusals differently from the
//! extractor (both use [`BearerRejection`] and [`InsufficientScope`]).

use crate::bearer::{bearer_token, verify_with, BearerRejection};
use crate::claims::AccessClaims;
use crate::verifier::Verifier;
use axum::http::{HeaderMap, Request};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

/// Guards the services it wraps: a request reaches them only with a valid bearer token that
/// grants every required scope, and then carries the token's [`AccessClaims`] in its
/// extensions (take them in an axum handler with `Extension<AccessClaims>`).
///
/// Refusals are answered by the layer, in the same shape as the [`AccessClaims`] extractor's:
/// no or bad token 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1),
/// keys unavailable 503, a missing required scope 403 `insufficient_scope` naming it.
///
/// ```no_run
/// use axum::{routing::get, Extension, Router};
/// use tollgate_token_verifier::{AccessClaims, RequireBearerLayer, Verifier, VerifierConfig};
///
/// async fn controls(Extension(claims): Extension<AccessClaims>) -> String {
///     format!("controls of {}", claims.org)
/// }
///
/// # fn build() -> Result<Router, tollgate_token_verifier::JwksError> {
/// let verifier = Verifier::new(VerifierConfig::new("https://auth.example.com", "https://api.example.com"))?;
/// let app = Router::new()
///     .route("/controls", get(controls))
///     .route_layer(RequireBearerLayer::new(verifier).require_scopes(["control.read"]));
/// # Ok(app)
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RequireBearerLayer {
    verifier: Verifier,
    scopes: Arc<[String]>,
}

impl RequireBearerLayer {
    /// A layer admitting any valid token of `verifier`'s issuer and audience.
    pub fn new(verifier: Verifier) -> RequireBearerLayer {
        RequireBearerLayer {
            verifier,
            scopes: Arc::from(Vec::new()),
        }
    }

    /// Also require each of these scopes (all of them); a token lacking one is answered 403
    /// `insufficient_scope` naming the first one missing.
    pub fn require_scopes<I, S>(mut self, scopes: I) -> RequireBearerLayer
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut all: Vec<String> = self.scopes.to_vec();
        all.extend(scopes.into_iter().map(Into::into));
        self.scopes = Arc::from(all);
        self
    }

    /// The scopes every request must carry.
    pub fn required_scopes(&self) -> &[String] {
        &self.scopes
    }
}

impl<S> Layer<S> for RequireBearerLayer {
    type Service = RequireBearer<S>;

    fn layer(&self, inner: S) -> RequireBearer<S> {
        RequireBearer {
            inner,
            verifier: self.verifier.clone(),
            scopes: self.scopes.clone(),
        }
    }
}

/// The service made by [`RequireBearerLayer`]: verifies, then calls `S` with the claims in the
/// request extensions.
#[derive(Clone, Debug)]
pub struct RequireBearer<S> {
    inner: S,
    verifier: Verifier,
    scopes: Arc<[String]>,
}

impl<S, B> Service<Request<B>> for RequireBearer<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was driven to readiness is the one to call; leave a fresh clone behind
        // (tower's documented pattern for services used from a boxed future).
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let verifier = self.verifier.clone();
        let scopes = self.scopes.clone();
        Box::pin(async move {
            let claims = match admit(&verifier, &scopes, request.headers()).await {
                Ok(claims) => claims,
                Err(refusal) => return Ok(refusal),
            };
            request.extensions_mut().insert(claims);
            inner.call(request).await
        })
    }
}

/// The token's claims, or the response refusing the request.
async fn admit(
    verifier: &Verifier,
    scopes: &[String],
    headers: &HeaderMap,
) -> Result<AccessClaims, Response> {
    let token = match bearer_token(headers) {
        Ok(Some(token)) => token,
        Ok(None) => return Err(BearerRejection::Missing.into_response()),
        Err(rejection) => return Err(rejection.into_response()),
    };
    let claims = verify_with(verifier, token)
        .await
        .map_err(IntoResponse::into_response)?;
    for scope in scopes {
        claims
            .require_scope(scope)
            .map_err(IntoResponse::into_response)?;
    }
    Ok(claims)
}
