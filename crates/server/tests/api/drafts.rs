//! Rule 5: client IDs are drawn when a draft opens; a draft saves once, only by its opener,
//! and a cancelled or expired draft never becomes a client.

use crate::both_engines;
use crate::helpers::{spawn_app, Engine};
use crate::mgmt_helpers::{
    insert_expired_draft, is_client_id, personal_body, service_account_body, time,
};
use chrono::{Duration, Utc};
use serde_json::json;
use std::collections::HashSet;
use tollgate_domain::ClientType;

async fn a_draft_reserves_a_32_character_alphanumeric_client_id_for_an_hour(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    let before = Utc::now();
    let draft = app
        .post(
            "/api/v1/api-clients/drafts",
            &app.admin,
            json!({"type": "service_account"}),
        )
        .await
        .expect(201);

    let id = draft.body["client_id"].as_str().unwrap();
    assert!(is_client_id(id), "{id}");
    assert_eq!(draft.body["type"], "service_account");
    let expires = time(&draft.body["expires_at"]);
    assert!(expires > before + Duration::minutes(59) && expires <= Utc::now() + Duration::hours(1));
}

async fn every_draft_gets_a_different_client_id(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, user) = app.add_person("user").await;

    let mut ids = HashSet::new();
    for _ in 0..20 {
        ids.insert(app.open_draft(&app.admin, "service_account").await);
        ids.insert(app.open_draft(&user, "personal").await);
    }

    assert_eq!(ids.len(), 40);
    assert!(ids.iter().all(|id| is_client_id(id)));
    let alphabet: HashSet<char> = ids.iter().flat_map(|id| id.chars()).collect();
    assert!(
        alphabet.iter().any(char::is_ascii_uppercase)
            && alphabet.iter().any(char::is_ascii_lowercase)
            && alphabet.iter().any(char::is_ascii_digit),
        "IDs use the whole [A-Za-z0-9] alphabet"
    );
}

async fn a_client_id_in_use_is_never_reserved_again(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (client_id, _, _) = app
        .create_service_account("Taken", "user", &["audit.read"])
        .await;
    let open = app.open_draft(&app.admin, "personal").await;
    let now = tollgate_server::management::now();
    let draft = |id: &str| tollgate_store::Draft {
        client_id: id.to_owned(),
        org_id: app.org_id.clone(),
        person_id: app.admin_id.clone(),
        client_type: ClientType::Personal,
        created_at: now,
        expires_at: now + Duration::hours(1),
    };

    let over_client = app
        .store
        .create_draft(&draft(&client_id), None)
        .await
        .unwrap();
    let over_draft = app.store.create_draft(&draft(&open), None).await.unwrap();

    assert!(
        !over_client,
        "a saved client's ID must not be reserved again"
    );
    assert!(!over_draft, "an open draft's ID must not be reserved twice");
}

async fn saving_a_draft_binds_its_client_id_to_the_client(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let draft = app.open_draft(&app.admin, "service_account").await;

    let created = app
        .post(
            "/api/v1/api-clients",
            &app.admin,
            service_account_body(&draft, "Bound", "user", &["audit.read"]),
        )
        .await
        .expect(201);

    assert_eq!(created.body["client"]["client_id"], draft.as_str());
    app.get(&format!("/api/v1/api-clients/{draft}"), &app.admin)
        .await
        .expect(200);
}

async fn a_draft_is_saved_only_once(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let draft = app.open_draft(&app.admin, "personal").await;
    app.post(
        "/api/v1/api-clients",
        &app.admin,
        personal_body(&draft, "Once", &["audit.read"]),
    )
    .await
    .expect(201);

    app.post(
        "/api/v1/api-clients",
        &app.admin,
        personal_body(&draft, "Twice", &["audit.read"]),
    )
    .await
    .expect_error(404, "draft_not_found");

    let list = app.get("/api/v1/api-clients", &app.admin).await.expect(200);
    assert_eq!(list.body["clients"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["clients"][0]["name"], "Once");
}

async fn two_concurrent_saves_of_one_draft_make_one_client(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let draft = app.open_draft(&app.admin, "personal").await;

    let (a, b) = tokio::join!(
        app.post(
            "/api/v1/api-clients",
            &app.admin,
            personal_body(&draft, "Racer A", &["audit.read"]),
        ),
        app.post(
            "/api/v1/api-clients",
            &app.admin,
            personal_body(&draft, "Racer B", &["audit.read"]),
        ),
    );

    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 404], "{} / {}", a.text, b.text);
    let list = app.get("/api/v1/api-clients", &app.admin).await.expect(200);
    assert_eq!(list.body["clients"].as_array().unwrap().len(), 1);
}

async fn only_the_person_who_opened_a_draft_can_save_it(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, user) = app.add_person("user").await;
    let (_, other_admin) = app.add_person("admin").await;
    let users_draft = app.open_draft(&user, "personal").await;
    let admins_draft = app.open_draft(&app.admin, "service_account").await;

    app.post(
        "/api/v1/api-clients",
        &app.admin,
        personal_body(&users_draft, "Hijack", &["audit.read"]),
    )
    .await
    .expect_error(404, "draft_not_found");
    app.post(
        "/api/v1/api-clients",
        &other_admin,
        service_account_body(&admins_draft, "Hijack", "user", &["audit.read"]),
    )
    .await
    .expect_error(404, "draft_not_found");

    app.post(
        "/api/v1/api-clients",
        &user,
        personal_body(&users_draft, "Mine", &["audit.read"]),
    )
    .await
    .expect(201);
    app.post(
        "/api/v1/api-clients",
        &app.admin,
        service_account_body(&admins_draft, "Mine", "user", &["audit.read"]),
    )
    .await
    .expect(201);
}

async fn a_draft_saves_only_as_the_type_it_was_opened_for(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let draft = app.open_draft(&app.admin, "personal").await;

    app.post(
        "/api/v1/api-clients",
        &app.admin,
        service_account_body(&draft, "Switch", "user", &["audit.read"]),
    )
    .await
    .expect_error(404, "draft_not_found");

    app.post(
        "/api/v1/api-clients",
        &app.admin,
        personal_body(&draft, "Switch", &["audit.read"]),
    )
    .await
    .expect(201);
}

async fn a_cancelled_draft_never_becomes_a_client(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, user) = app.add_person("user").await;
    let draft = app.open_draft(&user, "personal").await;

    app.delete(&format!("/api/v1/api-clients/drafts/{draft}"), &user)
        .await
        .expect(204);

    app.post(
        "/api/v1/api-clients",
        &user,
        personal_body(&draft, "Too late", &["audit.read"]),
    )
    .await
    .expect_error(404, "draft_not_found");
    app.delete(&format!("/api/v1/api-clients/drafts/{draft}"), &user)
        .await
        .expect_error(404, "not_found");
    app.get(&format!("/api/v1/api-clients/{draft}"), &user)
        .await
        .expect_error(404, "not_found");
    assert_eq!(
        app.get("/api/v1/api-clients", &user).await.body["clients"],
        json!([])
    );
}

async fn only_the_opener_can_cancel_a_draft(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, user) = app.add_person("user").await;
    let draft = app.open_draft(&user, "personal").await;

    app.delete(&format!("/api/v1/api-clients/drafts/{draft}"), &app.admin)
        .await
        .expect_error(404, "not_found");

    app.post(
        "/api/v1/api-clients",
        &user,
        personal_body(&draft, "Survived", &["audit.read"]),
    )
    .await
    .expect(201);
}

async fn an_expired_draft_cannot_be_saved(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (user_id, user) = app.add_person("user").await;
    let personal = insert_expired_draft(&app, &user_id, ClientType::Personal).await;
    let sa = insert_expired_draft(&app, &app.admin_id, ClientType::ServiceAccount).await;

    app.post(
        "/api/v1/api-clients",
        &user,
        personal_body(&personal, "Expired", &["audit.read"]),
    )
    .await
    .expect_error(404, "draft_not_found");
    app.post(
        "/api/v1/api-clients",
        &app.admin,
        service_account_body(&sa, "Expired", "user", &["audit.read"]),
    )
    .await
    .expect_error(404, "draft_not_found");

    assert_eq!(
        app.get("/api/v1/api-clients", &app.admin).await.body["clients"],
        json!([])
    );
    app.get(&format!("/api/v1/api-clients/{sa}"), &app.admin)
        .await
        .expect_error(404, "not_found");
}

async fn a_refused_save_leaves_the_draft_open(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let draft = app.open_draft(&app.admin, "personal").await;

    app.post(
        "/api/v1/api-clients",
        &app.admin,
        personal_body(&draft, "   ", &["audit.read"]),
    )
    .await
    .expect_error(422, "invalid_name");
    app.post(
        "/api/v1/api-clients",
        &app.admin,
        personal_body(&draft, "Fine", &[]),
    )
    .await
    .expect_error(422, "scopes_required");

    app.post(
        "/api/v1/api-clients",
        &app.admin,
        personal_body(&draft, "Fine", &["audit.read"]),
    )
    .await
    .expect(201);
}

async fn a_malformed_client_id_is_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    for bad in ["short", "0123456789abcdef0123456789abcde!", &"a".repeat(33)] {
        app.post(
            "/api/v1/api-clients",
            &app.admin,
            personal_body(bad, "Bad", &["audit.read"]),
        )
        .await
        .expect_error(422, "invalid_client_id");
    }
    // Well formed but never drafted.
    app.post(
        "/api/v1/api-clients",
        &app.admin,
        personal_body(&"A".repeat(32), "Never", &["audit.read"]),
    )
    .await
    .expect_error(404, "draft_not_found");
}

async fn only_admins_open_service_account_drafts(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    for role in ["compliance_manager", "user", "external_auditor"] {
        let (_, token) = app.add_person(role).await;
        app.post(
            "/api/v1/api-clients/drafts",
            &token,
            json!({"type": "service_account"}),
        )
        .await
        .expect_error(403, "forbidden");
        app.open_draft(&token, "personal").await;
    }
}

async fn an_unknown_draft_type_is_a_bad_request(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    app.post(
        "/api/v1/api-clients/drafts",
        &app.admin,
        json!({"type": "robot"}),
    )
    .await
    .expect_error(400, "invalid_request");
    app.post("/api/v1/api-clients/drafts", &app.admin, json!({}))
        .await
        .expect_error(400, "invalid_request");
}

both_engines!(
    a_draft_reserves_a_32_character_alphanumeric_client_id_for_an_hour,
    every_draft_gets_a_different_client_id,
    a_client_id_in_use_is_never_reserved_again,
    saving_a_draft_binds_its_client_id_to_the_client,
    a_draft_is_saved_only_once,
    two_concurrent_saves_of_one_draft_make_one_client,
    only_the_person_who_opened_a_draft_can_save_it,
    a_draft_saves_only_as_the_type_it_was_opened_for,
    a_cancelled_draft_never_becomes_a_client,
    only_the_opener_can_cancel_a_draft,
    an_expired_draft_cannot_be_saved,
    a_refused_save_leaves_the_draft_open,
    a_malformed_client_id_is_refused,
    only_admins_open_service_account_drafts,
    an_unknown_draft_type_is_a_bad_request,
);
