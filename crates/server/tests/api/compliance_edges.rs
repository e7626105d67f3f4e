//! Compliance API edges: malformed ids, the order of token refusals, revocation at the token
//! endpoint, and the ownership and tenancy rules applied to updates.

use crate::both_engines;
use crate::compliance_helpers::{assert_field, scopes_of, Actor};
use crate::helpers::{spawn_app, Engine};
use serde_json::json;
use std::time::Duration;

const COLLECTIONS: [(&str, &str); 5] = [
    ("programs", "prg"),
    ("controls", "ctl"),
    ("risks", "rsk"),
    ("tasks", "tsk"),
    ("audits", "aud"),
];

async fn malformed_ids_are_missing_objects_or_unknown_principals_never_a_server_error(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let sa = app.sa_actor("admin").await;
    let program = app.program(&sa).await;
    let task = app
        .create_object(&sa, "tasks", json!({"name": "t", "owner_id": app.admin_id}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // In paths: a NUL byte (which PostgreSQL text cannot hold), other bytes, a wrong prefix.
    for (collection, prefix) in COLLECTIONS {
        for id in [
            format!("{prefix}_ab%00cd"),
            format!("{prefix}_%00"),
            format!("{prefix}_a%C3%A9"),
            format!("{prefix}_a%0Ab"),
            format!("usr_{}", "A".repeat(22)),
        ] {
            let path = format!("/v1/{collection}/{id}");
            app.get(&path, &sa.token)
                .await
                .expect_error(404, "not_found");
            app.patch(&path, &sa.token, json!({"name": "x"}))
                .await
                .expect_error(404, "not_found");
            app.delete(&path, &sa.token)
                .await
                .expect_error(404, "not_found");
        }
    }
    for id in ["%00", "usr_%00", "sp_a%00b", "usr_a%20b"] {
        app.get(&format!("/v1/users/{id}"), &sa.token)
            .await
            .expect_error(404, "not_found");
    }

    // In bodies: owners, assignees and auditors that cannot be ids name nobody.
    for bad in ["usr_a\u{0}b", "\u{0}", "usr_\u{e9}", "", "usr_a b"] {
        let reply = app
            .post(
                "/v1/risks",
                &sa.token,
                json!({"name": "r", "owner_id": bad}),
            )
            .await
            .expect_error(422, "unknown_principal");
        assert_field(&reply, "owner_id");
        let reply = app
            .post(
                "/v1/tasks",
                &sa.token,
                json!({"name": "t", "owner_id": app.admin_id, "assignee_id": bad}),
            )
            .await
            .expect_error(422, "unknown_principal");
        assert_field(&reply, "assignee_id");
        let reply = app
            .patch(
                &format!("/v1/tasks/{task}"),
                &sa.token,
                json!({"assignee_id": bad}),
            )
            .await
            .expect_error(422, "unknown_principal");
        assert_field(&reply, "assignee_id");
        let reply = app
            .post(
                "/v1/audits",
                &sa.token,
                json!({"name": "a", "owner_id": app.admin_id, "auditor_ids": [app.admin_id, bad]}),
            )
            .await
            .expect_error(422, "unknown_principal");
        assert_field(&reply, "auditor_ids");
        let reply = app
            .post(
                "/v1/controls",
                &sa.token,
                json!({"name": "c", "owner_id": app.admin_id, "program_id": bad.replace("usr", "prg")}),
            )
            .await
            .expect_error(422, "unknown_program");
        assert_field(&reply, "program_id");
    }
    // A task id is no program id.
    app.post(
        "/v1/controls",
        &sa.token,
        json!({"name": "c", "owner_id": app.admin_id, "program_id": task}),
    )
    .await
    .expect_error(422, "unknown_program");
    // Nothing was half-written: the program is the only one, the task unchanged.
    let programs = app.get("/v1/programs", &sa.token).await.expect(200);
    assert_eq!(programs.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(programs.body["data"][0]["id"], program.as_str());
    let listed = app.get("/v1/tasks", &sa.token).await.expect(200);
    assert_eq!(listed.body["data"][0]["assignee_id"], app.admin_id.as_str());
    for collection in ["controls", "risks", "audits"] {
        let page = app
            .get(&format!("/v1/{collection}"), &sa.token)
            .await
            .expect(200);
        assert_eq!(page.body["data"], json!([]), "{collection}");
    }
}

async fn a_dead_token_is_401_even_for_an_operation_outside_its_scopes(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let reader = app.sa_actor("user").await;
    // Alive, it is told which scope it lacks.
    app.post("/v1/risks", &reader.token, json!({"name": "r"}))
        .await
        .expect_error(403, "insufficient_scope");

    app.delete(
        &format!("/api/v1/api-clients/{}", reader.client_id),
        &app.admin,
    )
    .await
    .expect(204);
    tokio::time::sleep(Duration::from_millis(1000)).await;

    // Dead, it learns nothing about scopes: every route answers 401.
    for (method, path) in [
        (reqwest::Method::POST, "/v1/risks"),
        (reqwest::Method::DELETE, "/v1/programs/prg_doesnotexist"),
        (reqwest::Method::GET, "/v1/programs"),
    ] {
        let body = (method == reqwest::Method::POST).then(|| json!({"name": "r"}));
        let reply = app
            .call(method.clone(), path, &reader.token, body)
            .await
            .expect_error(401, "invalid_token");
        assert!(
            reply.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer error=\"invalid_token\""),
            "{method} {path}"
        );
    }
}

async fn a_token_revoked_at_the_token_endpoint_is_refused_by_the_compliance_api(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let scopes = scopes_of("user");
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let (client_id, secret, _) = app.create_service_account("Revoker", "user", &scopes).await;
    let revoked = app.token(&client_id, &secret).await;
    let kept = app.token(&client_id, &secret).await;
    app.get("/v1/programs", &revoked).await.expect(200);

    app.revoke(&client_id, &secret, &revoked).await.expect(200);
    tokio::time::sleep(Duration::from_millis(1000)).await;

    app.get("/v1/programs", &revoked)
        .await
        .expect_error(401, "invalid_token");
    // Revoking one token leaves the client's other tokens alone.
    app.get("/v1/programs", &kept).await.expect(200);
}

async fn updates_follow_the_ownership_and_tenancy_rules_too(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let sa = app.sa_actor("admin").await;
    let (_, their_admin, theirs) = app.other_org_actor().await;
    let (inactive, _) = app.add_person("user").await;
    app.patch(
        &format!("/api/v1/people/{inactive}"),
        &app.admin,
        json!({"active": false}),
    )
    .await
    .expect(200);
    let program = app.program(&sa).await;
    let control = app
        .create_object(
            &sa,
            "controls",
            json!({"name": "c", "owner_id": app.admin_id, "program_id": program}),
        )
        .await;
    let control_path = format!("/v1/controls/{}", control["id"].as_str().unwrap());
    let task = app
        .create_object(&sa, "tasks", json!({"name": "t", "owner_id": app.admin_id}))
        .await;
    let task_path = format!("/v1/tasks/{}", task["id"].as_str().unwrap());

    // A deactivated person can be handed nothing.
    for (path, field) in [
        (&control_path, "owner_id"),
        (&task_path, "owner_id"),
        (&task_path, "assignee_id"),
    ] {
        let reply = app
            .patch(path, &sa.token, field_body(field, &inactive))
            .await
            .expect_error(422, "inactive_principal");
        assert_field(&reply, field);
    }
    // Another organization's person looks exactly like a missing one.
    let foreign = app
        .patch(&control_path, &sa.token, json!({"owner_id": their_admin}))
        .await
        .expect_error(422, "unknown_principal");
    let missing = app
        .patch(
            &control_path,
            &sa.token,
            json!({"owner_id": "usr_doesnotexist"}),
        )
        .await
        .expect_error(422, "unknown_principal");
    assert_eq!(foreign.text, missing.text);
    // A control cannot move into another organization's program.
    let their_program = app.program_of(&theirs, &their_admin).await;
    let foreign = app
        .patch(
            &control_path,
            &sa.token,
            json!({"program_id": their_program}),
        )
        .await
        .expect_error(422, "unknown_program");
    let missing = app
        .patch(
            &control_path,
            &sa.token,
            json!({"program_id": "prg_doesnotexist"}),
        )
        .await
        .expect_error(422, "unknown_program");
    assert_eq!(foreign.text, missing.text);

    // None of the refused updates changed anything.
    let now = app.get(&control_path, &sa.token).await.expect(200);
    assert_eq!(now.body, control);
    let now = app.get(&task_path, &sa.token).await.expect(200);
    assert_eq!(now.body, task);
}

async fn another_organizations_directory_entries_look_missing(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let ours: Actor = app.sa_actor("admin").await;
    let (_, their_admin, theirs) = app.other_org_actor().await;
    for their_principal in [their_admin.as_str(), theirs.principal_id.as_str()] {
        let foreign = app
            .get(&format!("/v1/users/{their_principal}"), &ours.token)
            .await
            .expect_error(404, "not_found");
        let prefix = their_principal.split('_').next().unwrap();
        let absent = app
            .get(&format!("/v1/users/{prefix}_doesnotexist"), &ours.token)
            .await
            .expect_error(404, "not_found");
        assert_eq!(foreign.text, absent.text);
    }
    let directory = app.get("/v1/users", &ours.token).await.expect(200);
    let ids: Vec<&str> = directory.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&their_admin.as_str()), "{ids:?}");
    assert!(!ids.contains(&theirs.principal_id.as_str()), "{ids:?}");
}

async fn the_directory_pages_with_cursors_bound_to_its_organization(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let sa = app.sa_actor("user").await;
    let (_, _, theirs) = app.other_org_actor().await;
    for _ in 0..3 {
        app.add_person("user").await;
    }
    // The Admin, three people and the service principal: five entries, two per page.
    let mut seen = Vec::new();
    let mut cursors = Vec::new();
    let mut path = "/v1/users?limit=2".to_owned();
    loop {
        let page = app.get(&path, &sa.token).await.expect(200);
        let data = page.body["data"].as_array().unwrap();
        assert!(data.len() <= 2, "{}", page.text);
        seen.extend(data.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                cursors.push(cursor.to_owned());
                path = format!("/v1/users?limit=2&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "no entry twice: {seen:?}");
    assert!(seen.contains(&sa.principal_id));

    // Another organization cannot replay the cursor, nor can another collection.
    app.get(&format!("/v1/users?cursor={}", cursors[0]), &theirs.token)
        .await
        .expect_error(400, "invalid_cursor");
    app.get(&format!("/v1/risks?cursor={}", cursors[0]), &sa.token)
        .await
        .expect_error(400, "invalid_cursor");
    app.get("/v1/users?limit=0", &sa.token)
        .await
        .expect_error(400, "invalid_limit");
}

async fn narrowing_a_clients_scopes_narrows_its_live_tokens(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (client_id, secret, _) = app
        .create_service_account(
            "Narrowed",
            "compliance_manager",
            &["risk.read", "risk.create"],
        )
        .await;
    let token = app.token(&client_id, &secret).await;
    app.post(
        "/v1/risks",
        &token,
        json!({"name": "before", "owner_id": app.admin_id}),
    )
    .await
    .expect(201);

    app.patch(
        &format!("/api/v1/api-clients/{client_id}"),
        &app.admin,
        json!({"scopes": ["risk.read"]}),
    )
    .await
    .expect(200);
    tokio::time::sleep(Duration::from_millis(1000)).await;

    // The token still says risk.create, but the client no longer holds it.
    let reply = app
        .post(
            "/v1/risks",
            &token,
            json!({"name": "after", "owner_id": app.admin_id}),
        )
        .await
        .expect_error(403, "insufficient_scope");
    assert!(reply.text.contains("risk.create"), "{}", reply.text);
    app.get("/v1/risks", &token).await.expect(200);
}

/// `{field: value}`.
fn field_body(field: &str, value: &str) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    body.insert(field.to_owned(), json!(value));
    serde_json::Value::Object(body)
}

both_engines!(
    malformed_ids_are_missing_objects_or_unknown_principals_never_a_server_error,
    a_dead_token_is_401_even_for_an_operation_outside_its_scopes,
    a_token_revoked_at_the_token_endpoint_is_refused_by_the_compliance_api,
    updates_follow_the_ownership_and_tenancy_rules_too,
    another_organizations_directory_entries_look_missing,
    the_directory_pages_with_cursors_bound_to_its_organization,
    narrowing_a_clients_scopes_narrows_its_live_tokens,
);
