//! Helpers for the OAuth endpoints: token requests with either authentication method,
//! introspection and revocation.

use crate::helpers::{read, Reply, TestApp};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

/// RFC 6749 §2.3.1: form-urlencode each part, then Basic-encode.
pub fn basic(client_id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(client_id), enc(secret)))
    )
}

/// The claims of a JWT, unverified (for assertions).
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three segments");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json")
}

/// The header of a JWT.
pub fn jwt_header(token: &str) -> Value {
    let header = token.split('.').next().expect("segment");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url")).expect("json")
}

impl TestApp {
    /// POSTs a form to an OAuth endpoint with optional `Authorization`.
    pub async fn oauth_form(
        &self,
        path: &str,
        authorization: Option<&str>,
        form: &[(&str, &str)],
    ) -> Reply {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut req = self
            .http
            .post(format!("{}{path}", self.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        read(req.send().await.expect("request sent")).await
    }

    /// Requests a token with `client_secret_basic`; returns the reply.
    pub async fn request_token(
        &self,
        client_id: &str,
        secret: &str,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend_from_slice(extra);
        self.oauth_form("/oauth/token", Some(&basic(client_id, secret)), &form)
            .await
    }

    /// A token for the client (all its effective scopes), or a panic with the reason.
    pub async fn token(&self, client_id: &str, secret: &str) -> String {
        let reply = self.request_token(client_id, secret, &[]).await.expect(200);
        reply.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// Introspects `token` as the given client.
    pub async fn introspect(&self, client_id: &str, secret: &str, token: &str) -> Reply {
        self.oauth_form(
            "/oauth/introspect",
            Some(&basic(client_id, secret)),
            &[("token", token)],
        )
        .await
    }

    /// Revokes `token` as the given client.
    pub async fn revoke(&self, client_id: &str, secret: &str, token: &str) -> Reply {
        self.oauth_form(
            "/oauth/revoke",
            Some(&basic(client_id, secret)),
            &[("token", token)],
        )
        .await
    }
}
