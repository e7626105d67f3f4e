//! Fixes from the audit of the token service (issue 3), each shown over HTTP on both engines:
//! no leeway on `exp` for the issuer's own verdicts, tokens that stay dead after M2M is turned
//! back on or a person reactivated, introspection answering the token's worth *now*, client
//! authentication before `invalid_target`, audit rows that rotating addresses cannot
//! multiply, the per-address brake, configured audiences and lifetimes, RFC 6749 §2.3.1
//! decoding, the publish-delay rule and serialised signing-key creation.

use crate::both_engines;
use crate::helpers::{read, spawn_app, spawn_app_with, test_config, Engine, Reply, TestApp};
use crate::oauth_helpers::{claims, ServerSigner};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Longer than the client cache's TTL (0.5 s): a change made through the API is seen.
async fn past_the_cache() {
    tokio::time::sleep(Duration::from_millis(600)).await;
}

async fn app_with_client(engine: Engine, role: &str, scopes: &[&str]) -> (TestApp, String, String) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, secret, _) = app.create_service_account("sync", role, scopes).await;
    (app, id, secret)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

// Rule 1: the issuer's verifiers give `exp` no leeway.

async fn introspection_reports_a_token_inactive_as_soon_as_it_expires(engine: Engine) {
    // Arrange: the genuine claims, re-signed with the server's own key.
    let (app, id, secret) = app_with_client(engine, "user", &["user.read"]).await;
    let genuine = app.token(&id, &secret).await;
    let signer = ServerSigner::of(&app).await;
    let n = now();
    let alive = signer.resign(
        &genuine,
        json!({"iat": n - 60, "nbf": n - 60, "exp": n + 60}),
    );
    let expired = signer.resign(
        &genuine,
        json!({"iat": n - 60, "nbf": n - 60, "exp": n - 3}),
    );

    // Act
    let alive_view = app.introspect(&id, &secret, &alive).await.expect(200);
    let expired_view = app.introspect(&id, &secret, &expired).await.expect(200);
    let expired_call = app.v1_users(&expired).await;

    // Assert: the same claims but for `exp`, so the refusal is due to expiry alone.
    assert_eq!(alive_view.body["active"], true, "{}", alive_view.text);
    assert_eq!(expired_view.text, r#"{"active":false}"#);
    assert_eq!(expired_call.status, 401, "{}", expired_call.text);
    assert_eq!(expired_call.code(), "invalid_token");
}

// Rule 7: tokens do not come back to life.

async fn tokens_issued_before_m2m_was_turned_off_stay_dead_when_it_is_turned_back_on(
    engine: Engine,
) {
    // Arrange
    let (app, id, secret) = app_with_client(engine, "user", &["user.read"]).await;
    let before = app.token(&id, &secret).await;
    app.v1_users(&before).await.expect(200);

    // Act: off, then on again.
    app.patch("/api/v1/org", &app.admin, json!({"m2m_enabled": false}))
        .await
        .expect(200);
    app.enable_m2m().await;
    past_the_cache().await;

    // Assert: the old token is dead for introspection and for the /v1 API; a new one works.
    assert_eq!(
        app.introspect(&id, &secret, &before).await.expect(200).text,
        r#"{"active":false}"#
    );
    let call = app.v1_users(&before).await;
    assert_eq!(
        (call.status.as_u16(), call.code()),
        (401, "invalid_token"),
        "{}",
        call.text
    );
    let after = app.token(&id, &secret).await;
    assert_eq!(
        app.introspect(&id, &secret, &after).await.body["active"],
        true
    );
    app.v1_users(&after).await.expect(200);
}

async fn a_token_issued_in_the_same_second_as_the_m2m_switch_off_is_dead(engine: Engine) {
    // Arrange: turn M2M off and on, and read the instant the store recorded.
    let (app, id, secret) = app_with_client(engine, "user", &["user.read"]).await;
    let genuine = app.token(&id, &secret).await;
    app.patch("/api/v1/org", &app.admin, json!({"m2m_enabled": false}))
        .await
        .expect(200);
    app.enable_m2m().await;
    let off_ms = app
        .sql_i64(
            "SELECT m2m_disabled_at FROM organizations WHERE id = $1",
            &app.org_id,
        )
        .await
        .expect("the switch-off instant is recorded");
    let off = off_ms.div_euclid(1000);
    past_the_cache().await;
    let signer = ServerSigner::of(&app).await;

    // Act: tokens stamped with the switch-off's second, and with the next second.
    let same_second = signer.resign(&genuine, json!({"iat": off, "nbf": off}));
    let next_second = signer.resign(&genuine, json!({"iat": off + 1, "nbf": off}));

    // Assert
    assert_eq!(
        app.introspect(&id, &secret, &same_second).await.text,
        r#"{"active":false}"#,
        "iat has one-second resolution: the whole second of the switch-off is dead"
    );
    assert_eq!(
        app.introspect(&id, &secret, &next_second).await.body["active"],
        true,
        "a token of the next second is live"
    );
}

async fn tokens_issued_before_a_person_was_deactivated_stay_dead_after_reactivation(
    engine: Engine,
) {
    // Arrange
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (observer, observer_secret, _) = app
        .create_service_account("observer", "user", &["user.read"])
        .await;
    let (person_id, session) = app.add_person("user").await;
    let (pid, psecret, _) = app.create_personal(&session, "mine", &["user.read"]).await;
    let before = app.token(&pid, &psecret).await;
    app.v1_users(&before).await.expect(200);

    // Act: deactivate, then reactivate.
    for active in [false, true] {
        app.patch(
            &format!("/api/v1/people/{person_id}"),
            &app.admin,
            json!({"active": active}),
        )
        .await
        .expect(200);
    }
    past_the_cache().await;

    // Assert
    assert_eq!(
        app.introspect(&observer, &observer_secret, &before)
            .await
            .expect(200)
            .text,
        r#"{"active":false}"#
    );
    let call = app.v1_users(&before).await;
    assert_eq!(
        (call.status.as_u16(), call.code()),
        (401, "invalid_token"),
        "{}",
        call.text
    );
    let after = app.token(&pid, &psecret).await;
    assert_eq!(
        app.introspect(&observer, &observer_secret, &after)
            .await
            .body["active"],
        true
    );
    app.v1_users(&after).await.expect(200);
}

// Rule 8: introspection answers the token's current worth.

async fn introspection_answers_the_current_scope_and_role_after_a_demotion(engine: Engine) {
    // Arrange
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (person_id, session) = app.add_person("compliance_manager").await;
    let (pid, psecret, _) = app
        .create_personal(&session, "script", &["control.read", "control.create"])
        .await;
    let token = app.token(&pid, &psecret).await;
    assert_eq!(claims(&token)["scope"], "control.read control.create");

    // Act: the person is demoted to User, who may not create controls.
    app.patch(
        &format!("/api/v1/people/{person_id}"),
        &app.admin,
        json!({"role": "user"}),
    )
    .await
    .expect(200);
    past_the_cache().await;
    let view = app.introspect(&pid, &psecret, &token).await.expect(200);

    // Assert
    assert_eq!(view.body["active"], true, "{}", view.text);
    assert_eq!(view.body["scope"], "control.read");
    assert_eq!(view.body["role"], "user");
}

async fn introspection_answers_the_current_scope_after_the_client_is_narrowed(engine: Engine) {
    // Arrange
    let (app, id, secret) =
        app_with_client(engine, "compliance_manager", &["control.read", "risk.read"]).await;
    let token = app.token(&id, &secret).await;

    // Act
    app.patch(
        &format!("/api/v1/api-clients/{id}"),
        &app.admin,
        json!({"scopes": ["risk.read"]}),
    )
    .await
    .expect(200);
    past_the_cache().await;
    let view = app.introspect(&id, &secret, &token).await.expect(200);

    // Assert
    assert_eq!(view.body["scope"], "risk.read", "{}", view.text);
    assert_eq!(view.body["role"], "compliance_manager");
}

// Rule 9: authentication comes before `invalid_target`.

async fn an_unauthenticated_token_request_for_an_unknown_resource_is_invalid_client(
    engine: Engine,
) {
    // Arrange
    let (app, id, secret) = app_with_client(engine, "user", &["user.read"]).await;
    let elsewhere = ("resource", "https://elsewhere.example/api");

    // Act
    let anonymous = app
        .oauth_form(
            "/oauth/token",
            None,
            &[("grant_type", "client_credentials"), elsewhere],
        )
        .await;
    let wrong_secret = app
        .request_token(&id, &format!("{secret}x"), &[elsewhere])
        .await;
    let good = app.request_token(&id, &secret, &[elsewhere]).await;

    // Assert: only an authenticated client learns that the resource is not served.
    for reply in [&anonymous, &wrong_secret] {
        assert_eq!(reply.status, 401, "{}", reply.text);
        assert_eq!(reply.body["error"], "invalid_client");
    }
    assert_eq!(
        (good.status.as_u16(), good.body["error"].as_str()),
        (400, Some("invalid_target"))
    );
}

// Rule 3: rotating source addresses does not multiply audit rows.

/// An HTTP client whose connections leave from `127.0.0.n` (every loopback address reaches the
/// server listening on 127.0.0.1).
fn from_address(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .build()
        .expect("http client")
}

async fn token_request_from(http: &reqwest::Client, app: &TestApp, auth: &str) -> Reply {
    let response = http
        .post(format!("{}/oauth/token", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", auth)
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("request sent");
    read(response).await
}

async fn audit_failures(app: &TestApp) -> usize {
    let events = app
        .get("/api/v1/audit-events?limit=500", &app.admin)
        .await
        .expect(200)
        .body;
    events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == "oauth.client_authentication" && e["outcome"] == "failure")
        .count()
}

async fn rotating_source_addresses_does_not_add_audit_rows_for_one_client(engine: Engine) {
    // Arrange: thresholds high enough that no answer is delayed.
    let app = spawn_app_with(engine, |c| {
        c.auth_failures_before_delay = 100;
        c.auth_failures_before_429 = 200;
    })
    .await;
    app.enable_m2m().await;
    let (id, _, _) = app
        .create_service_account("victim", "user", &["user.read"])
        .await;
    let wrong = crate::oauth_helpers::basic(&id, "tgs_wrong");

    // Act: one failure from each of ten addresses.
    for n in 2..12 {
        let reply = token_request_from(&from_address(n), &app, &wrong).await;
        assert_eq!(reply.status, 401, "{}", reply.text);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Assert: one row for the client ID in this window, not one per address.
    assert_eq!(audit_failures(&app).await, 1);
}

// Rule 10: the per-source-address brake.

async fn rotating_unknown_client_ids_from_one_address_is_answered_429_yet_a_good_secret_works(
    engine: Engine,
) {
    // Arrange
    let app = spawn_app_with(engine, |c| {
        c.auth_failures_before_delay = 2;
        c.auth_failures_before_429 = 4;
    })
    .await;
    app.enable_m2m().await;
    let (id, secret, _) = app
        .create_service_account("legit", "user", &["user.read"])
        .await;
    let http = from_address(9);

    // Act: every attempt names a different (well-formed, unknown) client ID.
    let mut last = None;
    for _ in 0..6 {
        let unknown = tollgate_domain::ids::random_base62(&mut rand::rngs::OsRng, 32);
        last = Some(
            token_request_from(&http, &app, &crate::oauth_helpers::basic(&unknown, &secret)).await,
        );
    }
    let good = token_request_from(&http, &app, &crate::oauth_helpers::basic(&id, &secret)).await;

    // Assert: no single ID failed more than once, so only the address's count explains the 429.
    let last = last.expect("attempts");
    assert_eq!(last.status, 429, "{}", last.text);
    let retry_after: u64 = last.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=61).contains(&retry_after), "{retry_after}");
    assert_eq!(good.status, 200, "{}", good.text);
}

// Rule 10: configured audiences and lifetimes.

async fn a_configured_resource_becomes_the_audience_of_the_token(engine: Engine) {
    // Arrange
    let reports = "https://reports.example.test/api";
    let app = spawn_app_with(engine, |c| c.resources = vec![reports.to_owned()]).await;
    app.enable_m2m().await;
    let (id, secret, _) = app
        .create_service_account("reporter", "user", &["user.read"])
        .await;

    // Act
    let reply = app
        .request_token(&id, &secret, &[("resource", reports)])
        .await
        .expect(200);
    let token = reply.body["access_token"].as_str().expect("token");

    // Assert
    assert_eq!(claims(token)["aud"], reports);
    let view = app.introspect(&id, &secret, token).await.expect(200);
    assert_eq!(view.body["active"], true, "{}", view.text);
    assert_eq!(view.body["aud"], json!([reports]));
}

async fn a_configured_token_lifetime_sets_expires_in_and_exp(engine: Engine) {
    // Arrange
    let app = spawn_app_with(engine, |c| c.token_lifetime_seconds = 120).await;
    app.enable_m2m().await;
    let (id, secret, _) = app
        .create_service_account("short", "user", &["user.read"])
        .await;

    // Act
    let reply = app.request_token(&id, &secret, &[]).await.expect(200);

    // Assert
    assert_eq!(reply.body["expires_in"], 120);
    let c = claims(reply.body["access_token"].as_str().expect("token"));
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 120);
    assert!((c["exp"].as_i64().unwrap() - now() - 120).abs() <= 2);
}

// Rule 10: RFC 6749 §2.3.1 inside Basic.

/// Percent-encodes the bytes of `text` whose index `pick` selects, with upper-case hex
/// (`%41` for `A`) or lower-case hex (`%6b` for `k`).
fn percent_encode(text: &str, pick: impl Fn(usize) -> bool, upper: bool) -> String {
    text.bytes()
        .enumerate()
        .map(|(i, b)| match (pick(i), upper) {
            (false, _) => (b as char).to_string(),
            (true, true) => format!("%{b:02X}"),
            (true, false) => format!("%{b:02x}"),
        })
        .collect()
}

fn basic_of(text: &str) -> String {
    format!("Basic {}", STANDARD.encode(text))
}

async fn basic_credentials_are_form_urlencoded_inside_the_base64(engine: Engine) {
    // Arrange
    let (app, id, secret) = app_with_client(engine, "user", &["user.read"]).await;
    let grant = [("grant_type", "client_credentials")];
    // Characters of both parts percent-encoded: a server that skipped §2.3.1 decoding would
    // look up a client ID starting `%` and compare a secret full of `%`s, and refuse.
    let encoded = format!(
        "{}:{}",
        percent_encode(&id, |i| i == 0, true),
        percent_encode(&secret, |i| i % 2 == 0, false)
    );
    assert!(encoded.starts_with('%') && encoded.matches('%').count() > 20);

    // Act
    let decoded_reply = app
        .oauth_form("/oauth/token", Some(&basic_of(&encoded)), &grant)
        .await;
    // The same percent-encoded text taken literally (sent in the body, where the form
    // encoding wraps it once more) is not the secret: the 200 above is owed to decoding.
    let literal_reply = app
        .oauth_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", encoded.split_once(':').unwrap().1),
            ],
        )
        .await;
    // `+` and `%2B` in Basic decode exactly as in the form body: the server refuses a body
    // `client_id` that differs from the Basic one (400 `invalid_request`), so agreeing IDs
    // reach client authentication (401 `invalid_client`, the IDs being no client's). A server
    // that left `+` alone, or turned the `+` of `%2B` into a space, would see them differ.
    let plus_is_space = app
        .oauth_form(
            "/oauth/token",
            Some(&basic_of(&format!("{id}+x:{secret}"))),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &format!("{id} x")),
            ],
        )
        .await;
    let encoded_plus_is_plus = app
        .oauth_form(
            "/oauth/token",
            Some(&basic_of(&format!("{id}%2Bx:{secret}"))),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &format!("{id}+x")),
            ],
        )
        .await;

    // Assert
    assert_eq!(decoded_reply.status, 200, "{}", decoded_reply.text);
    assert_eq!(
        claims(decoded_reply.body["access_token"].as_str().unwrap())["client_id"],
        id
    );
    assert_eq!(literal_reply.status, 401, "a literal %xx is not the secret");
    for (what, reply) in [("+", &plus_is_space), ("%2B", &encoded_plus_is_plus)] {
        assert_eq!(
            (reply.status.as_u16(), reply.body["error"].as_str()),
            (401, Some("invalid_client")),
            "{what}: {}",
            reply.text
        );
    }
}

// Rule 5: the publish delay must outlast the key refresh; the JWKS max-age leaves room.

async fn a_publish_delay_shorter_than_the_key_refresh_stops_start_up_with_a_clear_error(
    engine: Engine,
) {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(engine, dir.path()).await;
    config.key_refresh_seconds = 30;
    config.key_publish_delay_seconds = 10;

    // Act
    let refused = tollgate_server::Application::build(config).await;

    // Assert
    let message = format!("{:#}", refused.err().expect("start-up is refused"));
    assert!(
        message.contains("key_publish_delay_seconds") && message.contains("key_refresh_seconds"),
        "{message}"
    );
    assert!(
        message.contains("31"),
        "says the least accepted delay: {message}"
    );
}

async fn the_jwks_max_age_ends_before_a_rotated_in_key_signs(engine: Engine) {
    // Arrange
    let app = spawn_app_with(engine, |c| {
        c.key_publish_delay_seconds = 300;
        c.key_refresh_seconds = 10;
    })
    .await;

    // Act
    let jwks = app.get("/.well-known/jwks.json", "").await.expect(200);

    // Assert: at most publish delay − refresh interval (here less the one-second margin).
    assert_eq!(jwks.headers["cache-control"], "public, max-age=289");
}

// Rule 6: two processes starting on an empty database add one first key between them.

async fn concurrent_first_keys_on_an_empty_database_add_exactly_one(engine: Engine) {
    // Arrange: an empty, migrated database, and eight first keys ready to add at once.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = test_config(engine, dir.path())
        .await
        .database_url
        .expect("database url");
    let store = tollgate_store::Store::connect(&url, 8)
        .await
        .expect("store");
    assert!(store.list_signing_keys().await.unwrap().is_empty());
    let kek = tollgate_server::oauth::keys::Kek::new([3; 32]);
    let now = chrono::Utc::now();
    let records: Vec<_> = (0..8)
        .map(|_| tollgate_server::oauth::keys::generate("ES256", &kek, now, now).unwrap())
        .collect();

    // Act
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(records.len()));
    let tasks: Vec<_> = records
        .into_iter()
        .map(|record| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.add_signing_key(&record, false).await
            })
        })
        .collect();
    let mut added = 0;
    for task in tasks {
        if task.await.expect("task").expect("stored") {
            added += 1;
        }
    }

    // Assert
    assert_eq!(added, 1, "exactly one first key is added");
    assert_eq!(store.list_signing_keys().await.unwrap().len(), 1);
}

both_engines!(
    introspection_reports_a_token_inactive_as_soon_as_it_expires,
    tokens_issued_before_m2m_was_turned_off_stay_dead_when_it_is_turned_back_on,
    a_token_issued_in_the_same_second_as_the_m2m_switch_off_is_dead,
    tokens_issued_before_a_person_was_deactivated_stay_dead_after_reactivation,
    introspection_answers_the_current_scope_and_role_after_a_demotion,
    introspection_answers_the_current_scope_after_the_client_is_narrowed,
    an_unauthenticated_token_request_for_an_unknown_resource_is_invalid_client,
    rotating_source_addresses_does_not_add_audit_rows_for_one_client,
    rotating_unknown_client_ids_from_one_address_is_answered_429_yet_a_good_secret_works,
    a_configured_resource_becomes_the_audience_of_the_token,
    a_configured_token_lifetime_sets_expires_in_and_exp,
    basic_credentials_are_form_urlencoded_inside_the_base64,
    a_publish_delay_shorter_than_the_key_refresh_stops_start_up_with_a_clear_error,
    the_jwks_max_age_ends_before_a_rotated_in_key_signs,
    concurrent_first_keys_on_an_empty_database_add_exactly_one,
);
