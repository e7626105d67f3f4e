//! Rule 2: the organization's "M2M API authentication" switch (off by default, Admin only,
//! while off no client can be created) and its maximum secret lifetime.

use crate::both_engines;
use crate::helpers::{spawn_app, Engine};
use crate::mgmt_helpers::{audit_about, personal_body, service_account_body};
use serde_json::json;

async fn m2m_authentication_is_off_in_a_new_organization(engine: Engine) {
    let app = spawn_app(engine).await;

    let org = app.get("/api/v1/org", &app.admin).await.expect(200);

    assert_eq!(org.body["m2m_enabled"], false);
    assert_eq!(org.body["secret_max_lifetime_days"], json!(null));
    assert_eq!(org.body["secret_max_lifetime_months"], 24);
    assert_eq!(org.body["id"], app.org_id.as_str());
}

async fn only_an_admin_turns_m2m_on_or_off(engine: Engine) {
    let app = spawn_app(engine).await;
    let mut others = Vec::new();
    for role in ["compliance_manager", "user", "external_auditor"] {
        others.push(app.add_person(role).await.1);
    }

    for token in &others {
        app.patch("/api/v1/org", token, json!({"m2m_enabled": true}))
            .await
            .expect_error(403, "forbidden");
    }
    let still_off = app.get("/api/v1/org", &app.admin).await.expect(200);
    let on = app
        .patch("/api/v1/org", &app.admin, json!({"m2m_enabled": true}))
        .await
        .expect(200);
    for token in &others {
        app.patch("/api/v1/org", token, json!({"m2m_enabled": false}))
            .await
            .expect_error(403, "forbidden");
    }
    let off = app
        .patch("/api/v1/org", &app.admin, json!({"m2m_enabled": false}))
        .await
        .expect(200);

    assert_eq!(still_off.body["m2m_enabled"], false);
    assert_eq!(on.body["m2m_enabled"], true);
    assert_eq!(off.body["m2m_enabled"], false);
    let changes = audit_about(&app, &app.org_id).await;
    let updates = changes
        .iter()
        .filter(|e| e["action"] == "org.update")
        .count();
    assert_eq!(updates, 2, "only the two accepted changes are logged");
}

async fn everyone_in_the_organization_can_read_its_settings(engine: Engine) {
    let app = spawn_app(engine).await;
    let (_, user) = app.add_person("user").await;

    let org = app.get("/api/v1/org", &user).await.expect(200);

    assert_eq!(org.body["name"], "Acme");
}

async fn while_m2m_is_off_no_draft_can_be_opened(engine: Engine) {
    let app = spawn_app(engine).await;
    let (_, user) = app.add_person("user").await;

    app.post(
        "/api/v1/api-clients/drafts",
        &app.admin,
        json!({"type": "service_account"}),
    )
    .await
    .expect_error(409, "m2m_disabled");
    app.post(
        "/api/v1/api-clients/drafts",
        &user,
        json!({"type": "personal"}),
    )
    .await
    .expect_error(409, "m2m_disabled");
}

async fn turning_m2m_off_blocks_saving_an_open_draft(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, user) = app.add_person("user").await;
    let personal = app.open_draft(&user, "personal").await;
    let sa = app.open_draft(&app.admin, "service_account").await;
    app.patch("/api/v1/org", &app.admin, json!({"m2m_enabled": false}))
        .await
        .expect(200);

    app.post(
        "/api/v1/api-clients",
        &user,
        personal_body(&personal, "Laptop", &["audit.read"]),
    )
    .await
    .expect_error(409, "m2m_disabled");
    app.post(
        "/api/v1/api-clients",
        &app.admin,
        service_account_body(&sa, "Sync", "user", &["audit.read"]),
    )
    .await
    .expect_error(409, "m2m_disabled");

    assert_eq!(
        app.get("/api/v1/api-clients", &app.admin).await.body["clients"],
        json!([])
    );
    assert_eq!(
        app.get("/api/v1/api-clients", &user).await.body["clients"],
        json!([])
    );
}

async fn turning_m2m_back_on_allows_clients_again(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    app.patch("/api/v1/org", &app.admin, json!({"m2m_enabled": false}))
        .await
        .expect(200);
    app.enable_m2m().await;

    let (id, _, _) = app
        .create_service_account("Back on", "user", &["audit.read"])
        .await;

    app.get(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect(200);
}

async fn the_maximum_secret_lifetime_is_between_one_and_3650_days(engine: Engine) {
    let app = spawn_app(engine).await;

    for days in [0, -1, 3651] {
        app.patch(
            "/api/v1/org",
            &app.admin,
            json!({"secret_max_lifetime_days": days}),
        )
        .await
        .expect_error(422, "invalid_secret_max_lifetime");
    }
    let one = app
        .patch(
            "/api/v1/org",
            &app.admin,
            json!({"secret_max_lifetime_days": 1}),
        )
        .await
        .expect(200);
    let most = app
        .patch(
            "/api/v1/org",
            &app.admin,
            json!({"secret_max_lifetime_days": 3650}),
        )
        .await
        .expect(200);

    assert_eq!(one.body["secret_max_lifetime_days"], 1);
    assert_eq!(most.body["secret_max_lifetime_days"], 3650);
}

async fn an_empty_org_change_is_refused(engine: Engine) {
    let app = spawn_app(engine).await;

    app.patch("/api/v1/org", &app.admin, json!({}))
        .await
        .expect_error(400, "invalid_request");
}

async fn a_maximum_in_days_replaces_the_default_and_null_restores_it(engine: Engine) {
    let app = spawn_app(engine).await;

    let days = app
        .patch(
            "/api/v1/org",
            &app.admin,
            json!({"secret_max_lifetime_days": 90}),
        )
        .await
        .expect(200);
    let untouched = app
        .patch("/api/v1/org", &app.admin, json!({"m2m_enabled": true}))
        .await
        .expect(200);
    let restored = app
        .patch(
            "/api/v1/org",
            &app.admin,
            json!({"secret_max_lifetime_days": null}),
        )
        .await
        .expect(200);

    assert_eq!(days.body["secret_max_lifetime_days"], 90);
    assert_eq!(days.body["secret_max_lifetime_months"], json!(null));
    assert_eq!(untouched.body["secret_max_lifetime_days"], 90);
    assert_eq!(restored.body["secret_max_lifetime_days"], json!(null));
    assert_eq!(restored.body["secret_max_lifetime_months"], 24);
    let changes: Vec<_> = audit_about(&app, &app.org_id)
        .await
        .into_iter()
        .filter(|e| e["action"] == "org.update")
        .map(|e| e["details"]["secret_max_lifetime"].clone())
        .collect();
    assert_eq!(
        changes,
        [json!("24 calendar months"), json!(null), json!("90 days")]
    );
}

async fn a_non_admin_cannot_change_the_secret_lifetime(engine: Engine) {
    let app = spawn_app(engine).await;
    let (_, cm) = app.add_person("compliance_manager").await;

    app.patch(
        "/api/v1/org",
        &cm,
        json!({"secret_max_lifetime_days": 3650}),
    )
    .await
    .expect_error(403, "forbidden");

    let org = app.get("/api/v1/org", &app.admin).await.expect(200);
    assert_eq!(org.body["secret_max_lifetime_days"], json!(null));
    assert_eq!(org.body["secret_max_lifetime_months"], 24);
}

both_engines!(
    m2m_authentication_is_off_in_a_new_organization,
    only_an_admin_turns_m2m_on_or_off,
    everyone_in_the_organization_can_read_its_settings,
    while_m2m_is_off_no_draft_can_be_opened,
    turning_m2m_off_blocks_saving_an_open_draft,
    turning_m2m_back_on_allows_clients_again,
    the_maximum_secret_lifetime_is_between_one_and_3650_days,
    an_empty_org_change_is_refused,
    a_non_admin_cannot_change_the_secret_lifetime,
    a_maximum_in_days_replaces_the_default_and_null_restores_it,
);
