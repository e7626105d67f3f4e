//! Helpers of the management-API tests: a second organization, the audit log read whole,
//! raw requests (for bad bodies), direct looks at the test database, and expired drafts.

use crate::helpers::{read, Engine, Reply, TestApp, ADMIN_PASSWORD};
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use tollgate_domain::ClientType;
use tollgate_store::Draft;

/// A fresh random suffix for names and emails.
pub fn unique() -> String {
    tollgate_domain::ids::random_base62(&mut rand::rngs::OsRng, 10).to_lowercase()
}

/// Whether `id` is a client ID: exactly 32 characters `[A-Za-z0-9]`.
pub fn is_client_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Another organization ("Globex") on the same server: `(org id, its Admin's session)`.
pub async fn second_org(app: &TestApp) -> (String, String) {
    let email = format!("admin.{}@globex.test", unique());
    let org = tollgate_server::bootstrap::create_org(
        &app.store,
        "Globex",
        &email,
        "Gus Globex",
        ADMIN_PASSWORD,
    )
    .await
    .expect("second org");
    let token = app.sign_in(&email, ADMIN_PASSWORD).await;
    (org.org_id, token)
}

/// Every audit event of the caller's organization, newest first, following the cursors.
pub async fn audit_events(app: &TestApp, token: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut path = "/api/v1/audit-events?limit=500".to_owned();
    loop {
        let page = app.get(&path, token).await.expect(200);
        events.extend(page.body["events"].as_array().expect("events").clone());
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/audit-events?limit=500&cursor={cursor}"),
            None => return events,
        }
    }
}

/// The `action` of every successful audit event of the test organization (changes made,
/// not refused), newest first.
pub async fn audit_actions(app: &TestApp) -> Vec<String> {
    audit_events(app, &app.admin)
        .await
        .iter()
        .filter(|e| e["outcome"] == "success")
        .map(|e| e["action"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Successful audit events of the test organization about one target.
pub async fn audit_about(app: &TestApp, target_id: &str) -> Vec<Value> {
    audit_events(app, &app.admin)
        .await
        .into_iter()
        .filter(|e| e["target_id"] == target_id && e["outcome"] == "success")
        .collect()
}

/// Audit events of the test organization with outcome `failure`, newest first.
pub async fn audit_failures(app: &TestApp) -> Vec<Value> {
    audit_events(app, &app.admin)
        .await
        .into_iter()
        .filter(|e| e["outcome"] == "failure")
        .collect()
}

/// Sends raw bytes with an optional content type.
pub async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Reply {
    let mut req = app
        .http
        .request(method, format!("{}{path}", app.address))
        .body(body);
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    read(req.send().await.expect("request sent")).await
}

/// The client IDs a list call returns.
pub async fn listed_ids(app: &TestApp, path: &str, token: &str) -> Vec<String> {
    app.get(path, token).await.expect(200).body["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .map(|c| c["client_id"].as_str().expect("client_id").to_owned())
        .collect()
}

/// A row of `client_secrets` as stored.
#[derive(Debug)]
pub struct StoredSecret {
    pub id: String,
    pub client_id: String,
    pub secret_hash: Vec<u8>,
    pub hint: String,
}

/// Reads `client_secrets` straight from the test database.
pub async fn stored_secrets(app: &TestApp) -> Vec<StoredSecret> {
    let url = app.config.database_url();
    let sql = "SELECT id, client_id, secret_hash, hint FROM client_secrets ORDER BY id";
    let rows: Vec<(String, String, Vec<u8>, String)> = match app.engine {
        Engine::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("open sqlite");
            let rows = sqlx::query_as(sql).fetch_all(&pool).await.expect("query");
            pool.close().await;
            rows
        }
        Engine::Postgres => {
            let pool = sqlx::PgPool::connect(&url).await.expect("open postgres");
            let rows = sqlx::query_as(sql).fetch_all(&pool).await.expect("query");
            pool.close().await;
            rows
        }
    };
    rows.into_iter()
        .map(|(id, client_id, secret_hash, hint)| StoredSecret {
            id,
            client_id,
            secret_hash,
            hint,
        })
        .collect()
}

/// Stores a draft for `person_id` that expired a minute ago; returns its client ID.
pub async fn insert_expired_draft(
    app: &TestApp,
    person_id: &str,
    client_type: ClientType,
) -> String {
    let client_id = tollgate_domain::ClientId::generate(&mut rand::rngs::OsRng).to_string();
    let now = tollgate_server::management::now();
    let draft = Draft {
        client_id: client_id.clone(),
        org_id: app.org_id.clone(),
        person_id: person_id.to_owned(),
        client_type,
        created_at: now - Duration::hours(1) - Duration::minutes(1),
        expires_at: now - Duration::minutes(1),
    };
    assert!(app
        .store
        .create_draft(&draft, None)
        .await
        .expect("store draft"));
    client_id
}

/// The body that saves `client_id` as a personal client.
pub fn personal_body(client_id: &str, name: &str, scopes: &[&str]) -> Value {
    json!({"client_id": client_id, "type": "personal", "name": name, "scopes": scopes})
}

/// The body that saves `client_id` as a service-account client.
pub fn service_account_body(client_id: &str, name: &str, role: &str, scopes: &[&str]) -> Value {
    json!({"client_id": client_id, "type": "service_account", "name": name, "role": role, "scopes": scopes})
}

/// Parses an RFC 3339 time of a response.
pub fn time(v: &Value) -> chrono::DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

/// Sends `method path` with an optional JSON body.
pub async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Reply {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    app.call(method, path, token, body).await
}
