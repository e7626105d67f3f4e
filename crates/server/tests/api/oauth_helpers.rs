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

/// Signs tokens with the server's own active key, loaded the way the server loads it (from
/// the database, opened with the master key), so tests can make tokens with any claims that
/// the server must judge as its own.
pub struct ServerSigner {
    keys: tollgate_server::oauth::keys::Keys,
}

impl ServerSigner {
    /// The signer of `app`'s keys.
    pub async fn of(app: &TestApp) -> ServerSigner {
        let master =
            tollgate_server::keys::MasterKey::load_or_create(&app.config).expect("master key");
        let keys = tollgate_server::oauth::keys::Keys::load(
            app.store.clone(),
            master.signing_kek(),
            "ES256",
            app.address.clone(),
            vec![format!("{}/v1", app.address)],
            chrono::Duration::hours(1),
        )
        .await
        .expect("the server's keys");
        ServerSigner { keys }
    }

    /// A compact JWS of `claims` under the header the server puts on its tokens.
    pub fn sign(&self, claims: &Value) -> String {
        let key = self.keys.active(chrono::Utc::now()).expect("an active key");
        let header = serde_json::json!({"alg": key.alg, "typ": "at+jwt", "kid": key.kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = key.signer.sign(input.as_bytes()).expect("sign");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// `genuine`'s claims with `changes` applied, signed.
    pub fn resign(&self, genuine: &str, changes: Value) -> String {
        let mut c = claims(genuine);
        for (k, v) in changes.as_object().expect("object") {
            c[k] = v.clone();
        }
        self.sign(&c)
    }
}

impl TestApp {
    /// `GET /v1/users` with a bearer access token.
    pub async fn v1_users(&self, token: &str) -> Reply {
        self.get("/v1/users", token).await
    }

    /// Runs one SQL statement with one text parameter on the app's database and returns the
    /// first column of the first row as an integer, if any (for reading what the API does not
    /// show).
    pub async fn sql_i64(&self, sql: &str, param: &str) -> Option<i64> {
        let url = self.config.database_url.clone().expect("database url");
        match self.engine {
            crate::helpers::Engine::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&url).await.expect("sqlite");
                sqlx::query_scalar::<_, Option<i64>>(sql)
                    .bind(param)
                    .fetch_optional(&pool)
                    .await
                    .expect("query")
                    .flatten()
            }
            crate::helpers::Engine::Postgres => {
                let pool = sqlx::PgPool::connect(&url).await.expect("postgres");
                sqlx::query_scalar::<_, Option<i64>>(sql)
                    .bind(param)
                    .fetch_optional(&pool)
                    .await
                    .expect("query")
                    .flatten()
            }
        }
    }
}
