//! The audit log: every change is recorded (actor, action, target, time, source address,
//! outcome; never a secret), only Admins read it, each organization its own, append-only.

use crate::both_engines;
use crate::helpers::{spawn_app, Engine, ADMIN_PASSWORD};
use crate::mgmt_helpers::{audit_actions, audit_events, audit_failures, second_org, time};
use chrono::{Duration, Utc};
use serde_json::json;

async fn every_change_is_recorded_with_actor_target_time_source_and_outcome(engine: Engine) {
    let app = spawn_app(engine).await;
    let started = Utc::now() - Duration::seconds(1);
    app.enable_m2m().await;
    let (person, token) = app.add_person("user").await;
    app.patch(
        &format!("/api/v1/people/{person}"),
        &app.admin,
        json!({"role": "compliance_manager"}),
    )
    .await
    .expect(200);
    let (sa, _, body) = app
        .create_service_account("Audited", "user", &["audit.read"])
        .await;
    let first_secret = body["secret"]["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/api/v1/api-clients/{sa}"),
        &app.admin,
        json!({"description": "x"}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/api-clients/{sa}/secrets"),
        &app.admin,
        json!({}),
    )
    .await
    .expect(201);
    app.delete(
        &format!("/api/v1/api-clients/{sa}/secrets/{first_secret}"),
        &app.admin,
    )
    .await
    .expect(204);
    app.delete(&format!("/api/v1/api-clients/{sa}"), &app.admin)
        .await
        .expect(204);
    let (personal, _, _) = app
        .create_personal(&token, "Audited too", &["audit.read"])
        .await;
    app.delete(
        &format!("/api/v1/governance/personal-clients/{personal}"),
        &app.admin,
    )
    .await
    .expect(204);
    app.patch(
        &format!("/api/v1/people/{person}"),
        &app.admin,
        json!({"active": false}),
    )
    .await
    .expect(200);

    let events = audit_events(&app, &app.admin).await;

    let actions: Vec<&str> = events
        .iter()
        .rev()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| *a != "session.create")
        .collect();
    assert_eq!(
        actions,
        [
            "org.create",
            "org.update",
            "person.create",
            "person.update",
            "api_client.draft.create",
            "api_client.create",
            "api_client.update",
            "api_client.secret.create",
            "api_client.secret.revoke",
            "api_client.delete",
            "api_client.draft.create",
            "api_client.create",
            "api_client.revoke",
            "person.deactivate",
        ]
    );
    for e in events.iter().filter(|e| e["action"] != "org.create") {
        assert_eq!(e["outcome"], "success", "{e}");
        assert_eq!(e["source_ip"], "127.0.0.1", "{e}");
        assert!(e["actor_id"].as_str().unwrap().starts_with("usr_"), "{e}");
        assert!(
            e["target_type"].is_string() && e["target_id"].is_string(),
            "{e}"
        );
        let at = time(&e["at"]);
        assert!(
            at >= started && at <= Utc::now() + Duration::seconds(1),
            "{e}"
        );
    }
    let create = events
        .iter()
        .find(|e| e["action"] == "api_client.create" && e["target_id"] == sa.as_str())
        .unwrap();
    assert_eq!(create["actor_id"], app.admin_id.as_str());
    assert_eq!(create["actor_type"], "person");
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
}

async fn the_audit_log_never_holds_a_secret(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, user) = app.add_person("user").await;
    let (sa, v1, _) = app
        .create_service_account("Secretive", "user", &["audit.read"])
        .await;
    let v2 = app
        .post(
            &format!("/api/v1/api-clients/{sa}/secrets"),
            &app.admin,
            json!({}),
        )
        .await
        .expect(201)
        .body["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, v3, _) = app.create_personal(&user, "Mine", &["audit.read"]).await;
    let generated = app
        .post(
            "/api/v1/people",
            &app.admin,
            json!({"email": "gen@acme.test", "name": "Gen", "role": "user"}),
        )
        .await
        .expect(201)
        .body["initial_password"]
        .as_str()
        .unwrap()
        .to_owned();

    let text = app
        .get("/api/v1/audit-events?limit=500", &app.admin)
        .await
        .expect(200)
        .text;

    for value in [&v1, &v2, &v3] {
        assert!(!text.contains(&value[4..]), "a secret is in the audit log");
    }
    assert!(!text.contains(&generated), "a password is in the audit log");
    assert!(!text.contains(ADMIN_PASSWORD));
    assert!(
        !text.contains("tgst_"),
        "a session token is in the audit log"
    );
}

async fn failed_sign_ins_are_recorded_as_failures(engine: Engine) {
    let app = spawn_app(engine).await;

    app.post(
        "/api/v1/sessions",
        "",
        json!({"email": "admin@acme.test", "password": "wrong wrong wrong"}),
    )
    .await
    .expect(401);

    let events = audit_events(&app, &app.admin).await;
    let failure = events
        .iter()
        .find(|e| e["action"] == "session.create" && e["outcome"] == "failure")
        .expect("a failed sign-in event");
    assert_eq!(failure["actor_id"], app.admin_id.as_str());
    assert!(!failure.to_string().contains("wrong wrong wrong"));
}

async fn only_admins_read_the_audit_log(engine: Engine) {
    let app = spawn_app(engine).await;

    for role in ["compliance_manager", "user", "external_auditor"] {
        let (_, token) = app.add_person(role).await;
        app.get("/api/v1/audit-events", &token)
            .await
            .expect_error(403, "forbidden");
    }
    app.get("/api/v1/audit-events", "")
        .await
        .expect_error(401, "unauthenticated");
}

async fn each_organization_sees_only_its_own_events(engine: Engine) {
    let app = spawn_app(engine).await;
    let (globex_id, globex) = second_org(&app).await;
    app.enable_m2m().await;

    let ours = audit_events(&app, &app.admin).await;
    let theirs = audit_events(&app, &globex).await;

    assert!(ours.iter().all(|e| e["target_id"] != globex_id.as_str()));
    assert!(theirs.iter().all(|e| e["target_id"] != app.org_id.as_str()));
    assert!(!theirs.iter().any(|e| e["action"] == "org.update"));
}

async fn the_audit_log_is_paged_with_a_cursor(engine: Engine) {
    let app = spawn_app(engine).await;
    for _ in 0..3 {
        app.add_person("user").await;
    }
    let all = audit_events(&app, &app.admin).await;

    let mut paged = Vec::new();
    let mut path = "/api/v1/audit-events?limit=2".to_owned();
    loop {
        let page = app.get(&path, &app.admin).await.expect(200);
        let events = page.body["events"].as_array().unwrap();
        assert!(events.len() <= 2);
        paged.extend(events.iter().map(|e| e["id"].clone()));
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/audit-events?limit=2&cursor={c}"),
            None => break,
        }
    }

    let ids: Vec<_> = all.iter().map(|e| e["id"].clone()).collect();
    // Reading the log signs nobody in, so both reads see the same events.
    assert_eq!(paged, ids);
    app.get("/api/v1/audit-events?cursor=garbage", &app.admin)
        .await
        .expect_error(400, "invalid_request");
    app.get("/api/v1/audit-events?limit=0", &app.admin)
        .await
        .expect_error(422, "invalid_limit");
    app.get("/api/v1/audit-events?limit=501", &app.admin)
        .await
        .expect_error(422, "invalid_limit");
}

async fn audit_events_cannot_be_changed_or_deleted(engine: Engine) {
    let app = spawn_app(engine).await;
    let url = app.config.database_url();

    let (update, delete) = match engine {
        Engine::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            let u = sqlx::query("UPDATE audit_events SET action = 'forged'")
                .execute(&pool)
                .await;
            let d = sqlx::query("DELETE FROM audit_events").execute(&pool).await;
            (u.is_err(), d.is_err())
        }
        Engine::Postgres => {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            let u = sqlx::query("UPDATE audit_events SET action = 'forged'")
                .execute(&pool)
                .await;
            let d = sqlx::query("DELETE FROM audit_events").execute(&pool).await;
            (u.is_err(), d.is_err())
        }
    };

    assert!(update && delete, "the audit log is append-only");
    assert!(audit_actions(&app).await.contains(&"org.create".to_owned()));
}

async fn the_audit_log_cannot_be_truncated_on_postgres(engine: Engine) {
    let app = spawn_app(engine).await;
    if engine == Engine::Sqlite {
        // SQLite has no TRUNCATE; DELETE is refused (above).
        return;
    }
    let pool = sqlx::PgPool::connect(&app.config.database_url())
        .await
        .unwrap();

    let truncate = sqlx::query("TRUNCATE audit_events").execute(&pool).await;

    let message = truncate.expect_err("TRUNCATE is refused").to_string();
    assert!(message.contains("append-only"), "{message}");
    assert!(audit_actions(&app).await.contains(&"org.create".to_owned()));
}

async fn opening_and_cancelling_a_draft_are_recorded(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (person, user) = app.add_person("user").await;

    let draft = app.open_draft(&user, "personal").await;
    app.delete(&format!("/api/v1/api-clients/drafts/{draft}"), &user)
        .await
        .expect(204);
    // Cancelling it again finds nothing and records nothing.
    app.delete(&format!("/api/v1/api-clients/drafts/{draft}"), &user)
        .await
        .expect(404);

    let events: Vec<_> = audit_events(&app, &app.admin)
        .await
        .into_iter()
        .filter(|e| e["target_id"] == draft.as_str())
        .collect();
    let actions: Vec<_> = events.iter().rev().map(|e| e["action"].clone()).collect();
    assert_eq!(
        actions,
        [
            json!("api_client.draft.create"),
            json!("api_client.draft.delete")
        ]
    );
    for e in &events {
        assert_eq!(e["actor_id"], person.as_str(), "{e}");
        assert_eq!(e["outcome"], "success", "{e}");
        assert_eq!(e["target_type"], "api_client", "{e}");
        assert_eq!(e["source_ip"], "127.0.0.1", "{e}");
    }
    assert_eq!(events[1]["details"]["type"], "personal");
}

async fn refused_changes_are_recorded_as_failures_with_their_code(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (user_id, user) = app.add_person("user").await;
    let (taken, _, _) = app
        .create_service_account("Taken", "user", &["audit.read"])
        .await;

    // 403: a User tries an Admin's change.
    app.patch("/api/v1/org", &user, json!({"m2m_enabled": false}))
        .await
        .expect_error(403, "forbidden");
    // 409: the name is taken.
    let draft = app.open_draft(&app.admin, "service_account").await;
    app.post(
        "/api/v1/api-clients",
        &app.admin,
        json!({"client_id": draft, "type": "service_account", "name": "TAKEN", "role": "user", "scopes": ["audit.read"]}),
    )
    .await
    .expect_error(409, "name_taken");
    // 422: a scope beyond the role.
    app.patch(
        &format!("/api/v1/api-clients/{taken}"),
        &app.admin,
        json!({"scopes": ["audit.delete"]}),
    )
    .await
    .expect_error(422, "scope_not_allowed_for_role");
    // 403 with the session cookie but a wrong CSRF token.
    let session = app
        .http
        .post(format!("{}/api/v1/sessions", app.address))
        .json(&json!({"email": "admin@acme.test", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = session.headers()["set-cookie"].to_str().unwrap().to_owned();
    let csrf_refused = app
        .http
        .delete(format!("{}/api/v1/api-clients/{taken}", app.address))
        .header("cookie", cookie.split(';').next().unwrap())
        .header("x-csrf-token", "not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(csrf_refused.status(), 403);
    // Not recorded: 404 (unknown object), 401 (no session), 400 (malformed), reads.
    app.patch(
        "/api/v1/people/usr_doesnotexist000000000",
        &app.admin,
        json!({"role": "user"}),
    )
    .await
    .expect(404);
    app.patch("/api/v1/org", "", json!({"m2m_enabled": false}))
        .await
        .expect(401);
    app.patch("/api/v1/org", &user, json!({"surprise": 1}))
        .await
        .expect(400);
    app.get("/api/v1/people", &user).await.expect(403);

    let failures = audit_failures(&app).await;

    let summary: Vec<(String, String, String, String)> = failures
        .iter()
        .rev()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor_id"].as_str().unwrap().to_owned(),
                e["target_id"].as_str().unwrap_or("-").to_owned(),
                e["details"]["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let s = |a: &str| a.to_owned();
    assert_eq!(
        summary,
        [
            (
                s("org.update"),
                user_id.clone(),
                app.org_id.clone(),
                s("forbidden")
            ),
            (
                s("api_client.create"),
                app.admin_id.clone(),
                draft.clone(),
                s("name_taken")
            ),
            (
                s("api_client.update"),
                app.admin_id.clone(),
                taken.clone(),
                s("scope_not_allowed_for_role")
            ),
            (
                s("api_client.delete"),
                app.admin_id.clone(),
                taken.clone(),
                s("csrf_token_invalid")
            ),
        ]
    );
    for e in &failures {
        assert_eq!(e["actor_type"], "person", "{e}");
        assert_eq!(e["source_ip"], "127.0.0.1", "{e}");
        assert!(e["target_type"].is_string(), "{e}");
    }
    assert_eq!(failures[1]["details"]["field"], "scopes");
    assert_eq!(failures[2]["details"]["status"], 409);
    // The refused requests changed nothing, and the draft is still usable.
    app.get(&format!("/api/v1/api-clients/{taken}"), &app.admin)
        .await
        .expect(200);
}

both_engines!(
    every_change_is_recorded_with_actor_target_time_source_and_outcome,
    the_audit_log_never_holds_a_secret,
    failed_sign_ins_are_recorded_as_failures,
    only_admins_read_the_audit_log,
    each_organization_sees_only_its_own_events,
    the_audit_log_is_paged_with_a_cursor,
    audit_events_cannot_be_changed_or_deleted,
    the_audit_log_cannot_be_truncated_on_postgres,
    opening_and_cancelling_a_draft_are_recorded,
    refused_changes_are_recorded_as_failures_with_their_code,
);
