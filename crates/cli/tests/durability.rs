//! The real `tollgate` binary: `init` prints a password once and it signs in; a client saved,
//! a secret revoked and a person deactivated with a 2xx survive SIGKILL right after the
//! answer. On SQLite and on PostgreSQL.

mod common;

use common::*;
use serde_json::{json, Value};

async fn a_client_survives_sigkill_right_after_it_is_acknowledged(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(engine, dir.path()).await;
    let http = reqwest::Client::new();

    // `init` prints a generated password once, and it signs in.
    let printed = init(dir.path(), &url).await;
    let password = printed
        .lines()
        .find_map(|l| l.strip_prefix("password:"))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("init prints the password")
        .to_owned();
    assert_eq!(printed.matches(&password).count(), 1, "{printed}");
    assert!(password.len() >= 12);

    let (mut server, base) = serve(dir.path(), &url).await;
    let token = sign_in(&http, &base, &password).await;
    let (status, _) = call(
        &http,
        reqwest::Method::PATCH,
        format!("{base}/api/v1/org"),
        &token,
        json!({"m2m_enabled": true}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, draft) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/v1/api-clients/drafts"),
        &token,
        json!({"type": "service_account"}),
    )
    .await;
    assert_eq!(status, 201);
    let client_id = draft["client_id"].as_str().unwrap().to_owned();

    // Act: save the client, then SIGKILL the process the moment the 2xx arrives.
    let (status, created) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/v1/api-clients"),
        &token,
        json!({"client_id": client_id, "type": "service_account", "name": "Durable", "role": "user", "scopes": ["audit.read"]}),
    )
    .await;
    server.start_kill().expect("SIGKILL");
    assert_eq!(status, 201, "{created}");
    server.wait().await.unwrap();

    // Assert: a new process on the same data has the client, its secret and the session.
    let (_server, base) = serve(dir.path(), &url).await;
    let (status, client) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/api/v1/api-clients/{client_id}"),
        &token,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{client}");
    assert_eq!(client["name"], "Durable");
    assert_eq!(client["secrets"][0]["id"], created["secret"]["id"]);
    let fresh = sign_in(&http, &base, &password).await;
    assert!(!fresh.is_empty());
}

async fn init_refuses_a_second_admin_with_the_same_email(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(engine, dir.path()).await;
    init(dir.path(), &url).await;

    let again = tollgate(dir.path(), &url)
        .args(["init", "--org", "Other", "--admin-email", "admin@acme.test"])
        .output()
        .await
        .unwrap();

    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).trim().is_empty(),
        "no password is printed for a refused init"
    );
}

async fn init_reads_the_password_from_a_file_and_prints_none(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(engine, dir.path()).await;
    let file = dir.path().join("password.txt");
    std::fs::write(&file, "from a file, long enough\n").unwrap();

    let out = tollgate(dir.path(), &url)
        .args(["init", "--org", "Acme", "--admin-email", "admin@acme.test"])
        .arg("--password-file")
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(!printed.contains("password:"), "{printed}");

    let (_server, base) = serve(dir.path(), &url).await;
    sign_in(&reqwest::Client::new(), &base, "from a file, long enough").await;
}

/// `init`, `serve`, sign in as the Admin and turn M2M on: `(server, base, token, password)`.
async fn running_org(
    dir: &std::path::Path,
    url: &str,
    http: &reqwest::Client,
) -> (tokio::process::Child, String, String, String) {
    let password = printed_password(&init(dir, url).await);
    let (server, base) = serve(dir, url).await;
    let token = sign_in(http, &base, &password).await;
    let (status, _) = call(
        http,
        reqwest::Method::PATCH,
        format!("{base}/api/v1/org"),
        &token,
        json!({"m2m_enabled": true}),
    )
    .await;
    assert_eq!(status, 200);
    (server, base, token, password)
}

async fn a_secret_revocation_survives_sigkill_right_after_it_is_acknowledged(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(engine, dir.path()).await;
    let http = reqwest::Client::new();
    let (mut server, base, token, _) = running_org(dir.path(), &url, &http).await;
    let (_, draft) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/v1/api-clients/drafts"),
        &token,
        json!({"type": "service_account"}),
    )
    .await;
    let client_id = draft["client_id"].as_str().unwrap().to_owned();
    let (status, created) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/v1/api-clients"),
        &token,
        json!({"client_id": client_id, "type": "service_account", "name": "Rotated", "role": "user", "scopes": ["audit.read"]}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let first = created["secret"]["id"].as_str().unwrap().to_owned();
    let (status, second) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/v1/api-clients/{client_id}/secrets"),
        &token,
        json!({}),
    )
    .await;
    assert_eq!(status, 201, "{second}");

    // Act: revoke the first secret, then SIGKILL the moment the 2xx arrives.
    let (status, _) = call_then_kill(
        &mut server,
        &http,
        reqwest::Method::DELETE,
        format!("{base}/api/v1/api-clients/{client_id}/secrets/{first}"),
        &token,
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);

    // Assert: a new process sees only the second secret, and the first buys no token.
    let (_server, base) = serve(dir.path(), &url).await;
    let (status, client) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/api/v1/api-clients/{client_id}"),
        &token,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{client}");
    let ids: Vec<&str> = client["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second["id"].as_str().unwrap()]);
    let revoked = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(&client_id, created["secret"]["value"].as_str())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);
}

async fn a_deactivation_survives_sigkill_right_after_it_is_acknowledged(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(engine, dir.path()).await;
    let http = reqwest::Client::new();
    let (mut server, base, token, _) = running_org(dir.path(), &url, &http).await;
    let (status, added) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/v1/people"),
        &token,
        json!({"email": "bo@acme.test", "name": "Bo", "role": "user", "password": "a long enough password"}),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    let person = added["person"]["id"].as_str().unwrap().to_owned();
    let their_session = sign_in_as(&http, &base, "bo@acme.test", "a long enough password").await;

    // Act: deactivate them, then SIGKILL the moment the 2xx arrives.
    let (status, _) = call_then_kill(
        &mut server,
        &http,
        reqwest::Method::PATCH,
        format!("{base}/api/v1/people/{person}"),
        &token,
        json!({"active": false}),
    )
    .await;
    assert_eq!(status, 200);

    // Assert: a new process knows them as inactive; their session and password are dead.
    let (_server, base) = serve(dir.path(), &url).await;
    let (status, people) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/api/v1/people"),
        &token,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let bo = people["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == person.as_str())
        .unwrap()
        .clone();
    assert_eq!(bo["active"], false, "{bo}");
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/api/v1/me"),
        &their_session,
        Value::Null,
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/v1/sessions"),
        "",
        json!({"email": "bo@acme.test", "password": "a long enough password"}),
    )
    .await;
    assert_eq!(status, 401);
}

both_engines!(
    a_client_survives_sigkill_right_after_it_is_acknowledged,
    a_secret_revocation_survives_sigkill_right_after_it_is_acknowledged,
    a_deactivation_survives_sigkill_right_after_it_is_acknowledged,
    init_refuses_a_second_admin_with_the_same_email,
    init_reads_the_password_from_a_file_and_prints_none,
);
