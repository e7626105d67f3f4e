//! Who is calling the management API: people, by session cookie or bearer session token.
//!
//! A cookie-authenticated request with an unsafe method must also carry the session's CSRF
//! token in `X-CSRF-Token`; a bearer token needs none (a browser never sends it by itself).
//!
//! For the audit of refused changes ([`crate::management::audit::record_refusals`]) the
//! extractor also notes who the caller is in the request's [`AuditContext`], as soon as the
//! session is known (so a refused CSRF check is attributed too); handlers may refine the
//! action and target there.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use chrono::Utc;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;
use tollgate_domain::Role;
use tollgate_store::{AuditEvent, Principal};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "tollgate_session";
/// Header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Session tokens are random, so a plain SHA-256 is enough to keep them out of the database.
pub fn hash_session_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// What one request's audit of a refusal needs to know, filled while the request runs.
#[derive(Debug, Default)]
pub struct AuditNote {
    /// The signed-in person and the request's source address, once the session is known.
    pub actor: Option<(Principal, Option<String>)>,
    /// The action, when the handler names it more precisely than the route does.
    pub action: Option<String>,
    /// The target (type, id), when the handler knows it and the path does not say it.
    pub target: Option<(String, String)>,
}

/// Shared between the refusal-audit middleware and the extractor and handler of one request.
#[derive(Debug, Clone, Default)]
pub struct AuditContext(Arc<Mutex<AuditNote>>);

impl AuditContext {
    /// Reads (or changes) the note.
    pub fn with<T>(&self, f: impl FnOnce(&mut AuditNote) -> T) -> T {
        let mut note = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut note)
    }
}

/// A signed-in, active person.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The person.
    pub person: Principal,
    /// Hash of the session token (to sign out).
    pub session_hash: Vec<u8>,
    /// Where the request came from.
    pub source_ip: Option<String>,
    /// The request's audit context, when the refusal audit runs for it.
    pub context: Option<AuditContext>,
}

impl SignedIn {
    /// Whether the person is an Admin.
    pub fn is_admin(&self) -> bool {
        self.person.role == Role::Admin
    }

    /// Refuses non-Admins with 403.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "Only an Admin of the organization can do this.",
            ))
        }
    }

    /// Names the action this request attempts, for the audit of a refusal (default: the
    /// route's action).
    pub fn note_action(&self, action: &str) {
        if let Some(c) = &self.context {
            c.with(|n| n.action = Some(action.to_owned()));
        }
    }

    /// Names the target of this request, for the audit of a refusal (default: the id in
    /// the path, if any). Call it only with an id whose shape has been checked.
    pub fn note_target(&self, target_type: &str, target_id: &str) {
        if let Some(c) = &self.context {
            c.with(|n| n.target = Some((target_type.to_owned(), target_id.to_owned())));
        }
    }

    /// The organization of the person.
    pub fn org_id(&self) -> &str {
        &self.person.org_id
    }

    /// An audit event with this person as actor.
    pub fn audit(&self, action: &str, target_type: &str, target_id: &str) -> AuditEvent {
        AuditEvent {
            id: 0,
            org_id: Some(self.person.org_id.clone()),
            at: Utc::now(),
            actor_type: "person".into(),
            actor_id: Some(self.person.id.clone()),
            action: action.into(),
            target_type: Some(target_type.into()),
            target_id: Some(target_id.into()),
            source_ip: self.source_ip.clone(),
            outcome: "success".into(),
            details: serde_json::json!({}),
        }
    }
}

/// The peer address of a request, as text.
pub fn source_ip(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

fn cookie_value<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").map(str::trim));
        let (token, via_cookie) = match bearer {
            Some(t) => (t, false),
            None => match cookie_value(parts, SESSION_COOKIE) {
                Some(t) => (t, true),
                None => return Err(ApiError::unauthenticated()),
            },
        };
        let session_hash = hash_session_token(token);
        let Some((person, csrf, _)) = state.store.get_session(&session_hash, Utc::now()).await?
        else {
            return Err(ApiError::unauthenticated());
        };
        let source_ip = source_ip(parts);
        let context = parts.extensions.get::<AuditContext>().cloned();
        if let Some(c) = &context {
            c.with(|n| n.actor = Some((person.clone(), source_ip.clone())));
        }
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via_cookie && !safe {
            let presented = parts
                .headers
                .get(CSRF_HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if !bool::from(presented.ct_eq(csrf.as_bytes())) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_token_invalid",
                    "Send the csrf_token from sign-in in the X-CSRF-Token header with every change made through the session cookie.",
                ));
            }
        }
        Ok(SignedIn {
            person,
            session_hash,
            source_ip,
            context,
        })
    }
}
