//! The token service, rule by rule (issue 3): the client-credentials grant, JWT access
//! tokens, JWKS and metadata, introspection, revocation, the brute-force brake and usage.

use crate::both_engines;
use crate::helpers::{spawn_app, Engine, TestApp};
use crate::oauth_helpers::{basic, claims, jwt_header};
use serde_json::json;

async fn app_with_client(engine: Engine) -> (TestApp, String, String) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, secret, _) = app
        .create_service_account(
            "sync",
            "compliance_manager",
            &["control.read", "control.create", "risk.read"],
        )
        .await;
    (app, id, secret)
}

async fn both_authentication_methods_issue_a_token(engine: Engine) {
    let (app, id, secret) = app_with_client(engine).await;
    let basic_reply = app.request_token(&id, &secret, &[]).await.expect(200);
    let post_reply = app
        .oauth_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
        )
        .await
        .expect(200);
    for reply in [basic_reply, post_reply] {
        assert_eq!(reply.body["token_type"], "Bearer");
        assert_eq!(reply.body["expires_in"], 3600);
        assert!(reply.body.get("refresh_token").is_none());
        assert_eq!(reply.headers["cache-control"], "no-store");
        assert_eq!(reply.headers["pragma"], "no-cache");
    }
}

async fn malformed_token_requests_are_invalid_request(engine: Engine) {
    let (app, id, secret) = app_with_client(engine).await;
    // Both methods at once.
    let both = app
        .oauth_form(
            "/oauth/token",
            Some(&basic(&id, &secret)),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(
        (both.status.as_u16(), both.body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // Credentials in the query string.
    let query = app
        .http
        .post(format!(
            "{}/oauth/token?client_id={id}&client_secret={secret}",
            app.address
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 400);
    let body: serde_json::Value = query.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // A repeated parameter.
    let repeated = app
        .request_token(
            &id,
            &secret,
            &[("scope", "control.read"), ("scope", "risk.read")],
        )
        .await;
    assert_eq!(
        (repeated.status.as_u16(), repeated.body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // A JSON body.
    let json_body = app
        .http
        .post(format!("{}/oauth/token", app.address))
        .header("authorization", basic(&id, &secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), 400);
    let body: serde_json::Value = json_body.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // Another grant type.
    let other = app
        .oauth_form(
            "/oauth/token",
            Some(&basic(&id, &secret)),
            &[("grant_type", "password")],
        )
        .await;
    assert_eq!(
        (other.status.as_u16(), other.body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}

async fn every_authentication_failure_gets_one_identical_answer(engine: Engine) {
    let (app, id, secret) = app_with_client(engine).await;
    // A personal client whose person is later deactivated.
    let (person_id, person_token) = app.add_person("user").await;
    let (pid, psecret, _) = app
        .create_personal(&person_token, "mine", &["control.read"])
        .await;
    app.token(&pid, &psecret).await;
    app.patch(
        &format!("/api/v1/people/{person_id}"),
        &app.admin,
        json!({"active": false}),
    )
    .await
    .expect(200);
    // An expired secret: add one, then move its expiry into the past through the store.
    let reply = app
        .post(
            &format!("/api/v1/api-clients/{id}/secrets"),
            &app.admin,
            json!({}),
        )
        .await
        .expect(201);
    let expiring = reply.body["value"].as_str().unwrap().to_owned();
    let secret_id = reply.body["id"].as_str().unwrap().to_owned();
    expire_secret(&app, &secret_id).await;
    // A deleted (revoked) secret.
    let reply = app
        .post(
            &format!("/api/v1/api-clients/{id}/secrets"),
            &app.admin,
            json!({}),
        )
        .await
        .expect(201);
    let deleted = reply.body["value"].as_str().unwrap().to_owned();
    app.delete(
        &format!(
            "/api/v1/api-clients/{id}/secrets/{}",
            reply.body["id"].as_str().unwrap()
        ),
        &app.admin,
    )
    .await
    .expect(204);

    let unknown_client = app
        .request_token("A".repeat(32).as_str(), &secret, &[])
        .await;
    let wrong_secret = app.request_token(&id, &format!("{secret}x"), &[]).await;
    let expired = app.request_token(&id, &expiring, &[]).await;
    let revoked = app.request_token(&id, &deleted, &[]).await;
    let deactivated = app.request_token(&pid, &psecret, &[]).await;
    let no_credentials = app
        .oauth_form(
            "/oauth/token",
            None,
            &[("grant_type", "client_credentials")],
        )
        .await;
    for reply in [
        &unknown_client,
        &wrong_secret,
        &expired,
        &revoked,
        &deactivated,
        &no_credentials,
    ] {
        assert_eq!(reply.status, 401, "{}", reply.text);
        assert_eq!(reply.body["error"], "invalid_client");
        assert!(reply.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"));
        assert_eq!(reply.text, unknown_client.text);
    }
    // M2M off: the same answer, and back on it works again.
    app.patch("/api/v1/org", &app.admin, json!({"m2m_enabled": false}))
        .await
        .expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let off = app.request_token(&id, &secret, &[]).await;
    assert_eq!(
        (off.status.as_u16(), off.text.as_str()),
        (401, unknown_client.text.as_str())
    );
    app.patch("/api/v1/org", &app.admin, json!({"m2m_enabled": true}))
        .await
        .expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    app.request_token(&id, &secret, &[]).await.expect(200);
}

async fn expire_secret(app: &TestApp, secret_id: &str) {
    let sql = "UPDATE client_secrets SET expires_at = 1000 WHERE id = $1";
    match app.engine {
        Engine::Sqlite => {
            let url = app.config.database_url.clone().unwrap();
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            sqlx::query(sql)
                .bind(secret_id)
                .execute(&pool)
                .await
                .unwrap();
        }
        Engine::Postgres => {
            let url = app.config.database_url.clone().unwrap();
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::query(sql)
                .bind(secret_id)
                .execute(&pool)
                .await
                .unwrap();
        }
    }
}

async fn scope_defaults_to_the_effective_scopes_and_may_only_narrow(engine: Engine) {
    let (app, id, secret) = app_with_client(engine).await;
    let all = app.request_token(&id, &secret, &[]).await.expect(200);
    assert_eq!(all.body["scope"], "control.read control.create risk.read");
    let narrow = app
        .request_token(&id, &secret, &[("scope", "risk.read")])
        .await
        .expect(200);
    assert_eq!(narrow.body["scope"], "risk.read");
    assert_eq!(
        claims(narrow.body["access_token"].as_str().unwrap())["scope"],
        "risk.read"
    );
    let wider = app
        .request_token(&id, &secret, &[("scope", "risk.read risk.delete")])
        .await;
    assert_eq!(
        (wider.status.as_u16(), wider.body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let unknown = app
        .request_token(&id, &secret, &[("scope", "everything")])
        .await;
    assert_eq!(unknown.body["error"], "invalid_scope");
}

async fn a_personal_client_follows_its_persons_current_role(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (person_id, person_token) = app.add_person("compliance_manager").await;
    let (id, secret, _) = app
        .create_personal(&person_token, "script", &["control.read", "control.create"])
        .await;
    assert_eq!(
        app.request_token(&id, &secret, &[]).await.expect(200).body["scope"],
        "control.read control.create"
    );
    app.patch(
        &format!("/api/v1/people/{person_id}"),
        &app.admin,
        json!({"role": "user"}),
    )
    .await
    .expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let reply = app.request_token(&id, &secret, &[]).await.expect(200);
    assert_eq!(reply.body["scope"], "control.read");
    let token = reply.body["access_token"].as_str().unwrap();
    assert_eq!(claims(token)["role"], "user");
}

async fn access_tokens_are_rfc_9068_jwts_naming_their_subject_kind(engine: Engine) {
    let (app, id, secret) = app_with_client(engine).await;
    let token = app.token(&id, &secret).await;
    let header = jwt_header(&token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert!(header["kid"].as_str().is_some_and(|k| !k.is_empty()));
    let c = claims(&token);
    for name in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "nbf",
        "jti",
        "client_id",
        "scope",
        "org",
        "role",
        "principal_type",
    ] {
        assert!(c.get(name).is_some(), "claim {name} missing: {c}");
    }
    assert_eq!(c["iss"], app.address);
    assert_eq!(c["aud"], format!("{}/v1", app.address));
    assert_eq!(c["client_id"], id);
    assert_eq!(c["org"], app.org_id);
    assert_eq!(c["role"], "compliance_manager");
    assert_eq!(c["principal_type"], "service_principal");
    assert!(c["sub"].as_str().unwrap().starts_with("sp_"));
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );

    let (_, person_token) = app.add_person("user").await;
    let (pid, psecret, _) = app
        .create_personal(&person_token, "mine", &["control.read"])
        .await;
    let personal = claims(&app.token(&pid, &psecret).await);
    assert_eq!(personal["principal_type"], "person");
    assert!(personal["sub"].as_str().unwrap().starts_with("usr_"));
}

async fn the_resource_parameter_sets_the_audience_only_when_allowed(engine: Engine) {
    let (app, id, secret) = app_with_client(engine).await;
    let default_aud = format!("{}/v1", app.address);
    let ok = app
        .request_token(&id, &secret, &[("resource", &default_aud)])
        .await
        .expect(200);
    assert_eq!(
        claims(ok.body["access_token"].as_str().unwrap())["aud"],
        default_aud
    );
    let other = app
        .request_token(
            &id,
            &secret,
            &[("resource", "https://elsewhere.example/api")],
        )
        .await;
    assert_eq!(
        (other.status.as_u16(), other.body["error"].as_str()),
        (400, Some("invalid_target"))
    );
}

async fn jwks_and_metadata_publish_what_clients_need_and_nothing_private(engine: Engine) {
    let (app, id, secret) = app_with_client(engine).await;
    let token = app.token(&id, &secret).await;
    let jwks = app.get("/.well-known/jwks.json", "").await.expect(200);
    assert!(jwks.headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age"));
    let keys = jwks.body["keys"].as_array().unwrap();
    let kid = jwt_header(&token)["kid"].clone();
    let key = keys
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("the signing key is published");
    assert_eq!(
        (
            key["kty"].as_str(),
            key["crv"].as_str(),
            key["use"].as_str()
        ),
        (Some("EC"), Some("P-256"), Some("sig"))
    );
    assert!(keys
        .iter()
        .all(|k| k.get("d").is_none() && k.get("p").is_none()));

    let meta = app
        .get("/.well-known/oauth-authorization-server", "")
        .await
        .expect(200)
        .body;
    assert_eq!(meta["issuer"], app.address);
    assert_eq!(
        meta["token_endpoint"],
        format!("{}/oauth/token", app.address)
    );
    assert_eq!(
        meta["jwks_uri"],
        format!("{}/.well-known/jwks.json", app.address)
    );
    assert_eq!(meta["grant_types_supported"], json!(["client_credentials"]));
    assert_eq!(
        meta["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(meta["scopes_supported"].as_array().unwrap().len(), 21);
    assert_eq!(
        meta["introspection_endpoint"],
        format!("{}/oauth/introspect", app.address)
    );
    assert_eq!(
        meta["revocation_endpoint"],
        format!("{}/oauth/revoke", app.address)
    );
    let methods = json!(["client_secret_basic", "client_secret_post"]);
    assert_eq!(
        meta["introspection_endpoint_auth_methods_supported"],
        methods
    );
    assert_eq!(meta["revocation_endpoint_auth_methods_supported"], methods);
    assert_eq!(
        meta["access_token_signing_alg_values_supported"],
        json!(["ES256"]),
        "the algorithm of the published key"
    );
    // RFC 8414 §2: `token_endpoint_auth_signing_alg_values_supported` is for the JWT client
    // authentication methods (private_key_jwt, client_secret_jwt), which are not offered, so
    // it is not published; a client must not infer that it may sign its own assertions.
    assert!(meta
        .get("token_endpoint_auth_signing_alg_values_supported")
        .is_none());
    for (name, value) in meta.as_object().unwrap() {
        if name.ends_with("_alg_values_supported") {
            let algs = value.as_array().expect("a list");
            assert!(!algs.is_empty(), "{name}");
            assert!(
                algs.iter().all(|a| a != "none" && a != "HS256"),
                "{name}: {value}"
            );
        }
    }
    assert!(!meta.to_string().contains("\"none\""));
}

async fn signing_keys_are_encrypted_at_rest(engine: Engine) {
    let (app, _, _) = app_with_client(engine).await;
    let keys = app.store.list_signing_keys().await.unwrap();
    assert!(!keys.is_empty());
    for key in keys {
        let rng = ring::rand::SystemRandom::new();
        let parsed = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &key.private_key,
            &rng,
        );
        assert!(
            parsed.is_err(),
            "the stored private key must not be a plain PKCS#8 document"
        );
    }
}

async fn introspection_returns_claims_of_live_tokens_of_the_callers_organization(engine: Engine) {
    let (app, id, secret) = app_with_client(engine).await;
    let token = app.token(&id, &secret).await;
    let reply = app.introspect(&id, &secret, &token).await.expect(200);
    assert_eq!(reply.body["active"], true);
    assert_eq!(reply.body["client_id"], id);
    assert_eq!(reply.body["scope"], "control.read control.create risk.read");
    assert_eq!(reply.body["org"], app.org_id);

    // Another organization's client sees only {"active": false}.
    let other = tollgate_server::bootstrap::create_org(
        &app.store,
        "Globex",
        "admin@globex.test",
        "Gus",
        "another long password",
    )
    .await
    .unwrap();
    let other_admin = app
        .sign_in("admin@globex.test", "another long password")
        .await;
    app.patch("/api/v1/org", &other_admin, json!({"m2m_enabled": true}))
        .await
        .expect(200);
    let reply = app
        .try_create_client(
            &other_admin,
            "service_account",
            json!({"name": "x", "role": "user", "scopes": ["control.read"]}),
        )
        .await
        .expect(201);
    let (oid, osecret) = (
        reply.body["client"]["client_id"]
            .as_str()
            .unwrap()
            .to_owned(),
        reply.body["secret"]["value"].as_str().unwrap().to_owned(),
    );
    let foreign = app.introspect(&oid, &osecret, &token).await.expect(200);
    assert_eq!(foreign.text, r#"{"active":false}"#);
    assert!(other.org_id != app.org_id);

    for junk in ["", "not.a.token", "a.b.c", &format!("{token}x")] {
        let reply = app
            .oauth_form(
                "/oauth/introspect",
                Some(&basic(&id, &secret)),
                &[("token", junk)],
            )
            .await;
        if junk.is_empty() {
            assert_eq!(reply.status, 400, "a missing token is a malformed request");
        } else {
            assert_eq!(reply.text, r#"{"active":false}"#, "{junk}");
        }
    }
    // Introspection needs client authentication.
    let anonymous = app
        .oauth_form("/oauth/introspect", None, &[("token", &token)])
        .await;
    assert_eq!(anonymous.status, 401);
}

async fn a_token_turns_inactive_when_its_client_person_or_organization_stops(engine: Engine) {
    let (app, id, secret) = app_with_client(engine).await;
    let (observer, observer_secret, _) = app
        .create_service_account("observer", "user", &["user.read"])
        .await;
    let wait = || tokio::time::sleep(std::time::Duration::from_millis(600));

    // Person deactivated.
    let (person_id, person_token) = app.add_person("user").await;
    let (pid, psecret, _) = app
        .create_personal(&person_token, "mine", &["control.read"])
        .await;
    let personal_token = app.token(&pid, &psecret).await;
    assert_eq!(
        app.introspect(&observer, &observer_secret, &personal_token)
            .await
            .body["active"],
        true
    );
    app.patch(
        &format!("/api/v1/people/{person_id}"),
        &app.admin,
        json!({"active": false}),
    )
    .await
    .expect(200);
    wait().await;
    assert_eq!(
        app.introspect(&observer, &observer_secret, &personal_token)
            .await
            .body["active"],
        false
    );

    // Client deleted.
    let token = app.token(&id, &secret).await;
    app.delete(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect(204);
    wait().await;
    assert_eq!(
        app.introspect(&observer, &observer_secret, &token)
            .await
            .body["active"],
        false
    );

    // Organization turns M2M off: even the observer cannot authenticate any more; when it is
    // back on, tokens issued before are inactive only if something else stopped them.
    let (id2, secret2, _) = app
        .create_service_account("second", "user", &["control.read"])
        .await;
    let token2 = app.token(&id2, &secret2).await;
    app.patch("/api/v1/org", &app.admin, json!({"m2m_enabled": false}))
        .await
        .expect(200);
    wait().await;
    let off = app.introspect(&observer, &observer_secret, &token2).await;
    assert_eq!(off.status, 401, "with M2M off no client authenticates");
    let verifier_view = app.store.client_credentials(&id2).await.unwrap().unwrap();
    assert!(!verifier_view.m2m_enabled);
}

async fn a_client_revokes_its_own_token_and_unknown_tokens_get_200(engine: Engine) {
    let (app, id, secret) = app_with_client(engine).await;
    let token = app.token(&id, &secret).await;
    app.revoke(&id, &secret, &token).await.expect(200);
    assert_eq!(
        app.introspect(&id, &secret, &token).await.text,
        r#"{"active":false}"#
    );
    app.revoke(&id, &secret, "never.issued.token")
        .await
        .expect(200);

    // Another client's token is not revoked by someone else.
    let (other, other_secret, _) = app
        .create_service_account("other", "user", &["control.read"])
        .await;
    let other_token = app.token(&other, &other_secret).await;
    app.revoke(&id, &secret, &other_token).await.expect(200);
    assert_eq!(
        app.introspect(&other, &other_secret, &other_token)
            .await
            .body["active"],
        true
    );
}

async fn a_revocation_that_cannot_be_stored_answers_503(engine: Engine) {
    let (app, id, secret) = app_with_client(engine).await;
    let token = app.token(&id, &secret).await;
    let url = app.config.database_url.clone().unwrap();
    let sql = "DROP TABLE revoked_tokens";
    match app.engine {
        Engine::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        Engine::Postgres => {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
    }
    let reply = app.revoke(&id, &secret, &token).await;
    assert_eq!(reply.status, 503, "{}", reply.text);
    assert_eq!(reply.body["error"], "temporarily_unavailable");
}

async fn repeated_failures_are_braked_without_locking_out_the_good_secret(engine: Engine) {
    let (app, id, secret) = app_with_client(engine).await;
    let mut last = None;
    for _ in 0..21 {
        last = Some(app.request_token(&id, "tgs_wrong", &[]).await);
    }
    let last = last.unwrap();
    assert_eq!(last.status, 429, "{}", last.text);
    let retry_after: u64 = last.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=61).contains(&retry_after));
    // The legitimate client still gets its token.
    app.request_token(&id, &secret, &[]).await.expect(200);
    // Failures reach the audit log, but not one line per attempt.
    let events = app
        .get("/api/v1/audit-events?limit=500", &app.admin)
        .await
        .expect(200)
        .body;
    let failures = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "oauth.client_authentication" && e["outcome"] == "failure")
        .count();
    assert!(
        (1..=2).contains(&failures),
        "{failures} audit lines for 21 failures"
    );
    assert!(!events.to_string().contains(&secret));
}

async fn successful_authentication_updates_last_used_without_a_write_per_token(engine: Engine) {
    let (app, id, secret) = app_with_client(engine).await;
    let before = app
        .get(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect(200);
    assert!(before.body["secrets"][0]["last_used_at"].is_null());
    for _ in 0..5 {
        app.token(&id, &secret).await;
    }
    let mut seen = None;
    for _ in 0..30 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let after = app
            .get(&format!("/api/v1/api-clients/{id}"), &app.admin)
            .await
            .expect(200);
        if !after.body["secrets"][0]["last_used_at"].is_null() {
            seen = Some(after);
            break;
        }
    }
    assert!(seen.is_some(), "last_used_at was never recorded");
}

both_engines!(
    both_authentication_methods_issue_a_token,
    malformed_token_requests_are_invalid_request,
    every_authentication_failure_gets_one_identical_answer,
    scope_defaults_to_the_effective_scopes_and_may_only_narrow,
    a_personal_client_follows_its_persons_current_role,
    access_tokens_are_rfc_9068_jwts_naming_their_subject_kind,
    the_resource_parameter_sets_the_audience_only_when_allowed,
    jwks_and_metadata_publish_what_clients_need_and_nothing_private,
    signing_keys_are_encrypted_at_rest,
    introspection_returns_claims_of_live_tokens_of_the_callers_organization,
    a_token_turns_inactive_when_its_client_person_or_organization_stops,
    a_client_revokes_its_own_token_and_unknown_tokens_get_200,
    a_revocation_that_cannot_be_stored_answers_503,
    repeated_failures_are_braked_without_locking_out_the_good_secret,
    successful_authentication_updates_last_used_without_a_write_per_token,
);
