//! Rules 8, 9 and 10: a secret's value is shown once and only its keyed hash is stored;
//! each secret has its own expiry (six calendar months by default, within the org's maximum);
//! a client holds several secrets, up to a cap, and any one can be revoked alone.

use crate::both_engines;
use crate::helpers::{spawn_app, Engine, TestApp};
use crate::mgmt_helpers::{audit_about, audit_events, raw, stored_secrets, time};
use chrono::{Duration, Months, Timelike, Utc};
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};
use tollgate_domain::SecretValue;

/// Every read of the management API that could show a client's secrets.
async fn everything_readable(app: &TestApp, owner: &str, client_id: &str) -> String {
    let mut text = String::new();
    for (path, token) in [
        (format!("/api/v1/api-clients/{client_id}"), owner),
        ("/api/v1/api-clients".to_owned(), owner),
        ("/api/v1/api-clients?type=personal".to_owned(), owner),
        ("/api/v1/api-clients".to_owned(), app.admin.as_str()),
        (
            "/api/v1/governance/personal-clients".to_owned(),
            app.admin.as_str(),
        ),
        (
            "/api/v1/audit-events?limit=500".to_owned(),
            app.admin.as_str(),
        ),
    ] {
        text.push_str(&app.get(&path, token).await.expect(200).text);
    }
    text
}

async fn a_new_secret_has_the_documented_format_and_hint(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    let (_, value, body) = app
        .create_service_account("Formatted", "user", &["audit.read"])
        .await;

    assert!(value.starts_with("tgs_"), "{value}");
    assert_eq!(value.len(), 53);
    assert!(value[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
    assert!(SecretValue::parse(&value).is_ok(), "the checksum verifies");
    let mut corrupted = value.clone().into_bytes();
    corrupted[10] = if corrupted[10] == b'a' { b'b' } else { b'a' };
    assert!(SecretValue::parse(std::str::from_utf8(&corrupted).unwrap()).is_err());
    let hint = format!("tgs_\u{2026}{}", &value[value.len() - 4..]);
    assert_eq!(body["secret"]["hint"], hint.as_str());
    assert_eq!(body["client"]["secrets"][0]["hint"], hint.as_str());
    assert_eq!(body["client"]["secrets"][0]["id"], body["secret"]["id"]);
    assert!(body["secret"]["id"].as_str().unwrap().starts_with("sec_"));
}

async fn a_secret_value_is_shown_once_and_never_again(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, user) = app.add_person("user").await;
    let (sa, sa_value, _) = app
        .create_service_account("Shown once", "user", &["audit.read"])
        .await;
    let (personal, personal_value, _) = app.create_personal(&user, "Mine", &["audit.read"]).await;
    let added = app
        .post(
            &format!("/api/v1/api-clients/{personal}/secrets"),
            &user,
            json!({}),
        )
        .await
        .expect(201);
    let added_value = added.body["value"].as_str().unwrap().to_owned();

    let mut seen = everything_readable(&app, &user, &personal).await;
    seen.push_str(&everything_readable(&app, &app.admin, &sa).await);

    for value in [&sa_value, &personal_value, &added_value] {
        assert!(!seen.contains(value.as_str()), "a secret value leaked");
        // Not even its random middle.
        assert!(!seen.contains(&value[4..40]));
    }
    assert_ne!(personal_value, added_value);
}

async fn lists_show_only_secret_metadata(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, _, _) = app
        .create_service_account("Metadata", "user", &["audit.read"])
        .await;

    let client = app
        .get(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect(200);

    let secret = client.body["secrets"][0].as_object().unwrap();
    let mut keys: Vec<&str> = secret.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "expired",
            "expires_at",
            "hint",
            "id",
            "last_used_at"
        ]
    );
    assert_eq!(secret["last_used_at"], serde_json::Value::Null);
    assert_eq!(secret["expired"], false);
}

async fn only_a_keyed_hash_of_the_secret_is_stored(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, value, body) = app
        .create_service_account("Hashed", "user", &["audit.read"])
        .await;

    let stored = stored_secrets(&app).await;

    assert_eq!(stored.len(), 1);
    let row = &stored[0];
    assert_eq!(row.client_id, id);
    assert_eq!(row.id, body["secret"]["id"].as_str().unwrap());
    assert_eq!(row.secret_hash.len(), 32);
    assert_ne!(
        row.secret_hash,
        Sha256::digest(value.as_bytes()).to_vec(),
        "the hash is keyed, not a bare SHA-256"
    );
    let bytes = value.as_bytes();
    assert!(!row.secret_hash.windows(bytes.len()).any(|w| w == bytes));
    assert!(!row.hint.contains(&value[4..49]));
    if engine == Engine::Sqlite {
        // The database files hold no trace of the value.
        let dir = app.config.data_dir.clone();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let content = std::fs::read(&path).unwrap();
            assert!(
                !content.windows(40).any(|w| w == &bytes[4..44]),
                "{} holds the secret",
                path.display()
            );
        }
    }
}

async fn a_secret_expires_six_calendar_months_after_creation_by_default(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, _, body) = app
        .create_service_account("Default expiry", "user", &["audit.read"])
        .await;

    let first = &body["secret"];
    let added = app
        .post(
            &format!("/api/v1/api-clients/{id}/secrets"),
            &app.admin,
            json!({}),
        )
        .await
        .expect(201);

    for secret in [first, &added.body] {
        let created = time(&secret["created_at"]);
        let expires = time(&secret["expires_at"]);
        assert_eq!(expires, created.checked_add_months(Months::new(6)).unwrap());
    }
}

async fn a_secret_added_without_a_body_gets_the_default_expiry(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, _, _) = app
        .create_service_account("No body", "user", &["audit.read"])
        .await;

    let added = raw(
        &app,
        Method::POST,
        &format!("/api/v1/api-clients/{id}/secrets"),
        &app.admin,
        None,
        Vec::new(),
    )
    .await
    .expect(201);

    let created = time(&added.body["created_at"]);
    assert_eq!(
        time(&added.body["expires_at"]),
        created.checked_add_months(Months::new(6)).unwrap()
    );
}

async fn a_custom_expiry_must_be_in_the_future_and_within_the_maximum(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let past = (Utc::now() - Duration::minutes(1)).to_rfc3339();
    // The default maximum is 24 calendar months (not 730 days).
    let two_years = Utc::now().checked_add_months(Months::new(24)).unwrap();
    let too_far = (two_years + Duration::minutes(1)).to_rfc3339();
    // Sent with the clock's full (sub-millisecond) precision.
    let fine = (two_years - Duration::minutes(1))
        .with_nanosecond(123_456_789)
        .unwrap();

    for bad in [&past, &too_far] {
        let reply = app
            .try_create_client(
                &app.admin,
                "service_account",
                json!({"name": "Custom", "role": "user", "scopes": ["audit.read"], "secret_expires_at": bad}),
            )
            .await
            .expect_error(422, "invalid_expiry");
        assert_eq!(reply.body["error"]["field"], "secret_expires_at");
    }
    let ok = app
        .try_create_client(
            &app.admin,
            "service_account",
            json!({"name": "Custom", "role": "user", "scopes": ["audit.read"], "secret_expires_at": fine.to_rfc3339()}),
        )
        .await
        .expect(201);
    let id = ok.body["client"]["client_id"].as_str().unwrap();
    for bad in [&past, &too_far] {
        let reply = app
            .post(
                &format!("/api/v1/api-clients/{id}/secrets"),
                &app.admin,
                json!({"expires_at": bad}),
            )
            .await
            .expect_error(422, "invalid_expiry");
        assert_eq!(reply.body["error"]["field"], "expires_at");
        if bad == &too_far {
            let message = reply.body["error"]["message"].as_str().unwrap();
            assert!(message.contains("24 calendar months"), "{message}");
        }
    }
    let added = app
        .post(
            &format!("/api/v1/api-clients/{id}/secrets"),
            &app.admin,
            json!({"expires_at": fine.to_rfc3339()}),
        )
        .await
        .expect(201);

    // The answers that create the secrets show exactly what every later read shows: the
    // requested time at the stored (millisecond) precision.
    let client = app
        .get(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect(200);
    let listed = client.body["secrets"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(ok.body["secret"]["expires_at"], listed[0]["expires_at"]);
    assert_eq!(
        ok.body["client"]["secrets"][0]["expires_at"],
        listed[0]["expires_at"]
    );
    assert_eq!(added.body["expires_at"], listed[1]["expires_at"]);
    let echoed = time(&ok.body["secret"]["expires_at"]);
    assert!(
        echoed <= fine && fine - echoed < Duration::milliseconds(1),
        "{echoed} vs {fine}"
    );
}

async fn a_shorter_org_maximum_applies_to_new_secrets_only(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, _, body) = app
        .create_service_account("Before the change", "user", &["audit.read"])
        .await;
    let old_expiry = body["secret"]["expires_at"].clone();

    app.patch(
        "/api/v1/org",
        &app.admin,
        json!({"secret_max_lifetime_days": 30}),
    )
    .await
    .expect(200);
    let capped = app
        .post(
            &format!("/api/v1/api-clients/{id}/secrets"),
            &app.admin,
            json!({}),
        )
        .await
        .expect(201);
    let beyond = (Utc::now() + Duration::days(31)).to_rfc3339();
    app.post(
        &format!("/api/v1/api-clients/{id}/secrets"),
        &app.admin,
        json!({"expires_at": beyond}),
    )
    .await
    .expect_error(422, "invalid_expiry");

    let created = time(&capped.body["created_at"]);
    assert_eq!(
        time(&capped.body["expires_at"]),
        created + Duration::days(30)
    );
    let client = app
        .get(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(client.body["secrets"][0]["expires_at"], old_expiry);
}

async fn a_longer_org_maximum_allows_longer_secrets(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    app.patch(
        "/api/v1/org",
        &app.admin,
        json!({"secret_max_lifetime_days": 1000}),
    )
    .await
    .expect(200);

    let at = Utc::now() + Duration::days(900);
    let created = app
        .try_create_client(
            &app.admin,
            "service_account",
            json!({"name": "Long", "role": "user", "scopes": ["audit.read"], "secret_expires_at": at.to_rfc3339()}),
        )
        .await
        .expect(201);

    let echoed = time(&created.body["secret"]["expires_at"]);
    assert!(echoed <= at && at - echoed < Duration::milliseconds(1));
    let id = created.body["client"]["client_id"].as_str().unwrap();
    let client = app
        .get(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(
        client.body["secrets"][0]["expires_at"],
        created.body["secret"]["expires_at"]
    );
}

async fn a_client_holds_several_secrets_and_revoking_one_keeps_the_others(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, _, body) = app
        .create_service_account("Rotating", "user", &["audit.read"])
        .await;
    let first = body["secret"]["id"].as_str().unwrap().to_owned();
    let second = app
        .post(
            &format!("/api/v1/api-clients/{id}/secrets"),
            &app.admin,
            json!({}),
        )
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let third = app
        .post(
            &format!("/api/v1/api-clients/{id}/secrets"),
            &app.admin,
            json!({}),
        )
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    app.delete(
        &format!("/api/v1/api-clients/{id}/secrets/{second}"),
        &app.admin,
    )
    .await
    .expect(204);

    let client = app
        .get(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect(200);
    let ids: Vec<&str> = client.body["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [first.as_str(), third.as_str()]);
    let stored: Vec<String> = stored_secrets(&app)
        .await
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert!(!stored.contains(&second));
    let credentials = app.store.client_credentials(&id).await.unwrap().unwrap();
    assert_eq!(credentials.secrets.len(), 2);
    app.delete(
        &format!("/api/v1/api-clients/{id}/secrets/{second}"),
        &app.admin,
    )
    .await
    .expect_error(404, "not_found");
    let events = audit_about(&app, &id).await;
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "api_client.secret.revoke",
            "api_client.secret.create",
            "api_client.secret.create",
            "api_client.create",
            "api_client.draft.create"
        ]
    );
    assert_eq!(events[0]["details"]["secret_id"], second.as_str());
}

async fn a_secret_is_revoked_only_through_its_own_client(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (a, _, _) = app
        .create_service_account("A", "user", &["audit.read"])
        .await;
    let (_, _, b_body) = app
        .create_service_account("B", "user", &["audit.read"])
        .await;
    let b_secret = b_body["secret"]["id"].as_str().unwrap();

    app.delete(
        &format!("/api/v1/api-clients/{a}/secrets/{b_secret}"),
        &app.admin,
    )
    .await
    .expect_error(404, "not_found");

    assert_eq!(stored_secrets(&app).await.len(), 2);
}

async fn a_client_holds_at_most_ten_live_secrets(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, user) = app.add_person("user").await;
    let (id, _, _) = app.create_personal(&user, "Capped", &["audit.read"]).await;
    let path = format!("/api/v1/api-clients/{id}/secrets");
    let mut ids = Vec::new();
    for _ in 0..9 {
        let added = app.post(&path, &user, json!({})).await.expect(201);
        ids.push(added.body["id"].as_str().unwrap().to_owned());
    }

    let refused = app
        .post(&path, &user, json!({}))
        .await
        .expect_error(409, "secret_limit_reached");
    app.delete(&format!("{path}/{}", ids[0]), &user)
        .await
        .expect(204);
    app.post(&path, &user, json!({})).await.expect(201);

    assert!(!refused.text.contains("tgs_"));
    let client = app
        .get(&format!("/api/v1/api-clients/{id}"), &user)
        .await
        .expect(200);
    assert_eq!(client.body["secrets"].as_array().unwrap().len(), 10);
    let creates = audit_events(&app, &app.admin)
        .await
        .iter()
        .filter(|e| e["action"] == "api_client.secret.create" && e["outcome"] == "success")
        .count();
    assert_eq!(
        creates, 10,
        "the refused secret was not recorded as created"
    );
}

async fn concurrent_additions_never_exceed_the_cap(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, _, _) = app
        .create_service_account("Race", "user", &["audit.read"])
        .await;
    let path = format!("/api/v1/api-clients/{id}/secrets");
    for _ in 0..7 {
        app.post(&path, &app.admin, json!({})).await.expect(201);
    }

    let replies = futures_join(&app, &path, 5).await;

    let ok = replies.iter().filter(|s| **s == 201).count();
    assert_eq!(ok, 2, "{replies:?}");
    assert!(
        replies.iter().all(|s| *s == 201 || *s == 409),
        "{replies:?}"
    );
    assert_eq!(
        app.store
            .client_credentials(&id)
            .await
            .unwrap()
            .unwrap()
            .secrets
            .len(),
        10
    );
}

async fn futures_join(app: &TestApp, path: &str, n: usize) -> Vec<u16> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let http = app.http.clone();
        let url = format!("{}{path}", app.address);
        let token = app.admin.clone();
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

both_engines!(
    a_new_secret_has_the_documented_format_and_hint,
    a_secret_value_is_shown_once_and_never_again,
    lists_show_only_secret_metadata,
    only_a_keyed_hash_of_the_secret_is_stored,
    a_secret_expires_six_calendar_months_after_creation_by_default,
    a_secret_added_without_a_body_gets_the_default_expiry,
    a_custom_expiry_must_be_in_the_future_and_within_the_maximum,
    a_shorter_org_maximum_applies_to_new_secrets_only,
    a_longer_org_maximum_allows_longer_secrets,
    a_client_holds_several_secrets_and_revoking_one_keeps_the_others,
    a_secret_is_revoked_only_through_its_own_client,
    a_client_holds_at_most_ten_live_secrets,
    concurrent_additions_never_exceed_the_cap,
);
