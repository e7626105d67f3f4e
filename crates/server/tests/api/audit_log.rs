//! The audit log: every change is recorded (actor, action, target, time, source address,
//! outcome; never a secret), only Admins read it, each organization its own, append-only.

use crate::both_engines;
use crate::helpers::{spawn_app, Engine, ADMIN_PASSWORD};
use crate::mgmt_helpers::{audit_actions, audit_events, second_org, time};
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
            "api_client.create",
            "api_client.update",
            "api_client.secret.create",
            "api_client.secret.revoke",
            "api_client.delete",
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

both_engines!(
    every_change_is_recorded_with_actor_target_time_source_and_outcome,
    the_audit_log_never_holds_a_secret,
    failed_sign_ins_are_recorded_as_failures,
    only_admins_read_the_audit_log,
    each_organization_sees_only_its_own_events,
    the_audit_log_is_paged_with_a_cursor,
    audit_events_cannot_be_changed_or_deleted,
);
