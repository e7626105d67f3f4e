//! The compliance resource API (`/v1`) with real tokens from `/oauth/token`: the ownership
//! rule, attribution, record rules, restricted fields, tenancy, pagination, the directory,
//! liveness and bad input.

use crate::both_engines;
use crate::compliance_helpers::assert_field;
use crate::helpers::{spawn_app, Engine};
use crate::mgmt_helpers::unique;
use serde_json::{json, Value};
use std::time::Duration;

async fn a_service_account_creates_a_control_owned_by_a_person_and_is_recorded_as_its_creator(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let sa = app.sa_actor("compliance_manager").await;
    let program = app.program(&sa).await;

    let control = app
        .post(
            "/v1/controls",
            &sa.token,
            json!({"name": "Access reviews", "program_id": program, "owner_id": app.admin_id}),
        )
        .await
        .expect(201)
        .body;

    assert!(control["id"].as_str().unwrap().starts_with("ctl_"));
    assert_eq!(control["type"], "control");
    assert_eq!(control["owner_id"], app.admin_id.as_str());
    assert_eq!(control["program_id"], program.as_str());
    assert_eq!(control["created_by"], sa.principal_id.as_str());
    assert_eq!(control["updated_by"], sa.principal_id.as_str());
    assert_eq!(control["via_client_id"], sa.client_id.as_str());
    assert_eq!(control["created_via_client_id"], sa.client_id.as_str());
    let read = app
        .get(
            &format!("/v1/controls/{}", control["id"].as_str().unwrap()),
            &sa.token,
        )
        .await
        .expect(200);
    assert_eq!(read.body, control);
}

async fn a_service_principal_never_owns_or_is_assigned_work(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let sa = app.sa_actor("admin").await;
    let other_sa = app.sa_actor("user").await;
    let program = app.program(&sa).await;

    // Naming itself, another service principal, or nobody: all refused with the guidance.
    for body in [
        json!({"name": "Mine", "program_id": program, "owner_id": sa.principal_id}),
        json!({"name": "Theirs", "program_id": program, "owner_id": other_sa.principal_id}),
        json!({"name": "Nobody's", "program_id": program}),
    ] {
        let reply = app
            .post("/v1/controls", &sa.token, body)
            .await
            .expect_error(422, "service_principal_cannot_own");
        assert_field(&reply, "owner_id");
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("person's id") || message.contains("id of an active person"),
            "{message}"
        );
    }
    for collection in ["programs", "risks", "audits"] {
        app.post(
            &format!("/v1/{collection}"),
            &sa.token,
            json!({"name": "x", "owner_id": sa.principal_id}),
        )
        .await
        .expect_error(422, "service_principal_cannot_own");
    }
    // Tasks: neither owner nor assignee.
    let reply = app
        .post(
            "/v1/tasks",
            &sa.token,
            json!({"name": "Rotate keys", "owner_id": app.admin_id, "assignee_id": sa.principal_id}),
        )
        .await
        .expect_error(422, "service_principal_cannot_own");
    assert_field(&reply, "assignee_id");
    // Updates too.
    let task = app
        .create_object(
            &sa,
            "tasks",
            json!({"name": "Rotate keys", "owner_id": app.admin_id}),
        )
        .await;
    assert_eq!(
        task["assignee_id"],
        app.admin_id.as_str(),
        "assignee defaults to the owner"
    );
    let path = format!("/v1/tasks/{}", task["id"].as_str().unwrap());
    for field in ["owner_id", "assignee_id"] {
        let reply = app
            .patch(&path, &sa.token, json!({ field: other_sa.principal_id }))
            .await
            .expect_error(422, "service_principal_cannot_own");
        assert_field(&reply, field);
    }
    let (person, _) = app.add_person("user").await;
    let moved = app
        .patch(&path, &sa.token, json!({"assignee_id": person}))
        .await
        .expect(200);
    assert_eq!(moved.body["assignee_id"], person.as_str());
}

async fn owners_must_be_active_people_of_the_same_organization(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let sa = app.sa_actor("admin").await;
    let (_, other_admin, _) = app.other_org_actor().await;
    let (inactive, _) = app.add_person("user").await;
    app.patch(
        &format!("/api/v1/people/{inactive}"),
        &app.admin,
        json!({"active": false}),
    )
    .await
    .expect(200);

    let foreign = app
        .post(
            "/v1/risks",
            &sa.token,
            json!({"name": "r", "owner_id": other_admin}),
        )
        .await
        .expect_error(422, "unknown_principal");
    let missing = app
        .post(
            "/v1/risks",
            &sa.token,
            json!({"name": "r", "owner_id": "usr_doesnotexist"}),
        )
        .await
        .expect_error(422, "unknown_principal");
    assert_eq!(
        foreign.text, missing.text,
        "another org's person looks missing"
    );
    let reply = app
        .post(
            "/v1/risks",
            &sa.token,
            json!({"name": "r", "owner_id": inactive}),
        )
        .await
        .expect_error(422, "inactive_principal");
    assert_field(&reply, "owner_id");
}

async fn a_personal_client_acts_as_its_person_and_owns_by_default(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let me = app.personal_actor("compliance_manager").await;

    let risk = app
        .create_object(&me, "risks", json!({"name": "Vendor lock-in"}))
        .await;
    assert_eq!(risk["owner_id"], me.principal_id.as_str());
    assert_eq!(risk["created_by"], me.principal_id.as_str());
    assert_eq!(risk["via_client_id"], me.client_id.as_str());
    let task = app
        .create_object(&me, "tasks", json!({"name": "Review"}))
        .await;
    assert_eq!(task["owner_id"], me.principal_id.as_str());
    assert_eq!(task["assignee_id"], me.principal_id.as_str());

    // An update by someone else's client records them as the last writer.
    let sa = app.sa_actor("compliance_manager").await;
    let updated = app
        .patch(
            &format!("/v1/risks/{}", risk["id"].as_str().unwrap()),
            &sa.token,
            json!({"description": "Now with details"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(updated["created_by"], me.principal_id.as_str());
    assert_eq!(updated["updated_by"], sa.principal_id.as_str());
    assert_eq!(updated["via_client_id"], sa.client_id.as_str());
    assert_eq!(updated["created_via_client_id"], me.client_id.as_str());
}

async fn external_auditors_see_and_update_only_audits_that_list_them(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let admin = app.sa_actor("admin").await;
    let auditor_sa = app.sa_actor("external_auditor").await;
    let auditor_person = app.personal_actor("external_auditor").await;
    let listed = app
        .create_object(
            &admin,
            "audits",
            json!({"name": "SOC 2", "owner_id": app.admin_id,
                   "auditor_ids": [auditor_sa.principal_id, auditor_person.principal_id]}),
        )
        .await;
    let unlisted = app
        .create_object(
            &admin,
            "audits",
            json!({"name": "ISO", "owner_id": app.admin_id}),
        )
        .await;
    let (listed_id, unlisted_id) = (
        listed["id"].as_str().unwrap(),
        unlisted["id"].as_str().unwrap(),
    );
    assert_eq!(
        listed["auditor_ids"].as_array().unwrap().len(),
        2,
        "a service principal may be listed as an auditor"
    );

    for auditor in [&auditor_sa, &auditor_person] {
        let page = app.get("/v1/audits", &auditor.token).await.expect(200);
        let ids: Vec<&str> = page.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [listed_id]);
        app.get(&format!("/v1/audits/{listed_id}"), &auditor.token)
            .await
            .expect(200);
        let hidden = app
            .get(&format!("/v1/audits/{unlisted_id}"), &auditor.token)
            .await
            .expect_error(404, "not_found");
        let missing = app
            .get("/v1/audits/aud_doesnotexist", &auditor.token)
            .await
            .expect_error(404, "not_found");
        assert_eq!(hidden.text, missing.text);
        app.patch(
            &format!("/v1/audits/{unlisted_id}"),
            &auditor.token,
            json!({"description": "x"}),
        )
        .await
        .expect_error(404, "not_found");
        let updated = app
            .patch(
                &format!("/v1/audits/{listed_id}"),
                &auditor.token,
                json!({"description": "Fieldwork started"}),
            )
            .await
            .expect(200);
        assert_eq!(updated.body["updated_by"], auditor.principal_id.as_str());
        for body in [
            json!({"owner_id": app.admin_id}),
            json!({"auditor_ids": [auditor.principal_id]}),
        ] {
            app.patch(&format!("/v1/audits/{listed_id}"), &auditor.token, body)
                .await
                .expect_error(403, "field_not_permitted");
        }
        app.delete(&format!("/v1/audits/{listed_id}"), &auditor.token)
            .await
            .expect_error(403, "insufficient_scope");
        app.get("/v1/controls", &auditor.token)
            .await
            .expect_error(403, "insufficient_scope");
    }
}

async fn internal_notes_are_seen_only_by_admins_and_api_admins(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let admin = app.sa_actor("admin").await;
    let api_admin = app.sa_actor("api_admin").await;
    let manager = app.personal_actor("compliance_manager").await;
    let user = app.sa_actor("user").await;
    let risk = app
        .create_object(
            &admin,
            "risks",
            json!({"name": "Fraud", "owner_id": app.admin_id, "internal_notes": "board only"}),
        )
        .await;
    assert_eq!(risk["internal_notes"], "board only");
    let path = format!("/v1/risks/{}", risk["id"].as_str().unwrap());

    let seen = app.get(&path, &api_admin.token).await.expect(200);
    assert_eq!(seen.body["internal_notes"], "board only");
    let listed = app.get("/v1/risks", &api_admin.token).await.expect(200);
    assert_eq!(listed.body["data"][0]["internal_notes"], "board only");
    for actor in [&manager, &user] {
        let reply = app.get(&path, &actor.token).await.expect(200);
        assert!(reply.body.get("internal_notes").is_none(), "{}", reply.text);
        let listed = app.get("/v1/risks", &actor.token).await.expect(200);
        assert!(listed.body["data"][0].get("internal_notes").is_none());
    }
    let reply = app
        .patch(&path, &manager.token, json!({"internal_notes": "sneaky"}))
        .await
        .expect_error(403, "restricted_field");
    assert_field(&reply, "internal_notes");
    app.post(
        "/v1/risks",
        &manager.token,
        json!({"name": "x", "internal_notes": "sneaky"}),
    )
    .await
    .expect_error(403, "restricted_field");
    // An API admin reads everything and writes nothing.
    app.patch(&path, &api_admin.token, json!({"name": "y"}))
        .await
        .expect_error(403, "insufficient_scope");

    // On an audit too, for every other kind of caller.
    let person_admin = app.personal_actor("admin").await;
    let sa_manager = app.sa_actor("compliance_manager").await;
    let person_user = app.personal_actor("user").await;
    let sa_auditor = app.sa_actor("external_auditor").await;
    let person_auditor = app.personal_actor("external_auditor").await;
    let audit = app
        .create_object(
            &admin,
            "audits",
            json!({"name": "SOC 2 fieldwork", "owner_id": app.admin_id,
                   "internal_notes": "fee negotiation",
                   "auditor_ids": [sa_auditor.principal_id, person_auditor.principal_id]}),
        )
        .await;
    let path = format!("/v1/audits/{}", audit["id"].as_str().unwrap());

    // A personal client of an Admin sees and writes the restricted field.
    let seen = app.get(&path, &person_admin.token).await.expect(200);
    assert_eq!(seen.body["internal_notes"], "fee negotiation");
    let changed = app
        .patch(
            &path,
            &person_admin.token,
            json!({"internal_notes": "settled"}),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["internal_notes"], "settled");

    // Everyone else, service account or person, sees the audit without it: on reads, in
    // lists, and in the answer to their own change.
    for actor in [
        &sa_manager,
        &manager,
        &user,
        &person_user,
        &sa_auditor,
        &person_auditor,
    ] {
        let one = app.get(&path, &actor.token).await.expect(200);
        assert!(one.body.get("internal_notes").is_none(), "{}", one.text);
        assert_eq!(one.body["name"], "SOC 2 fieldwork");
        let page = app.get("/v1/audits", &actor.token).await.expect(200);
        let listed = &page.body["data"][0];
        assert_eq!(listed["id"], audit["id"]);
        assert!(listed.get("internal_notes").is_none(), "{}", page.text);
    }
    for actor in [&sa_manager, &sa_auditor, &person_auditor] {
        let answer = app
            .patch(
                &path,
                &actor.token,
                json!({"description": "fieldwork notes"}),
            )
            .await
            .expect(200);
        assert!(
            answer.body.get("internal_notes").is_none(),
            "{}",
            answer.text
        );
        let refused = app
            .patch(&path, &actor.token, json!({"internal_notes": "x"}))
            .await
            .expect_error(403, "restricted_field");
        assert_field(&refused, "internal_notes");
    }
    // The refused writes left the field as the Admin set it.
    let seen = app.get(&path, &admin.token).await.expect(200);
    assert_eq!(seen.body["internal_notes"], "settled");
}

async fn another_organizations_objects_are_byte_identical_to_missing_ones(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let ours = app.sa_actor("admin").await;
    let (_, their_admin, theirs) = app.other_org_actor().await;
    let their_program = app.program_of(&theirs, &their_admin).await;
    for (collection, body) in [
        ("programs", json!({"name": "p", "owner_id": their_admin})),
        (
            "controls",
            json!({"name": "c", "owner_id": their_admin, "program_id": their_program}),
        ),
        ("risks", json!({"name": "r", "owner_id": their_admin})),
        ("tasks", json!({"name": "t", "owner_id": their_admin})),
        ("audits", json!({"name": "a", "owner_id": their_admin})),
    ] {
        let object = app.create_object(&theirs, collection, body).await;
        let id = object["id"].as_str().unwrap();
        let prefix = &id[..4];
        let missing = format!("{prefix}doesnotexist00000000000");
        for (method, body) in [
            (reqwest::Method::GET, None),
            (reqwest::Method::PATCH, Some(json!({"name": "mine now"}))),
            (reqwest::Method::DELETE, None),
        ] {
            let foreign = app
                .call(
                    method.clone(),
                    &format!("/v1/{collection}/{id}"),
                    &ours.token,
                    body.clone(),
                )
                .await
                .expect_error(404, "not_found");
            let absent = app
                .call(
                    method.clone(),
                    &format!("/v1/{collection}/{missing}"),
                    &ours.token,
                    body.clone(),
                )
                .await
                .expect_error(404, "not_found");
            assert_eq!(foreign.text, absent.text, "{method} {collection}");
        }
        let page = app
            .get(&format!("/v1/{collection}"), &ours.token)
            .await
            .expect(200);
        assert_eq!(page.body["data"], json!([]));
        app.get(&format!("/v1/{collection}/{id}"), &theirs.token)
            .await
            .expect(200);
    }
    // A control may not join another organization's program.
    let our_program_missing = app
        .post(
            "/v1/controls",
            &ours.token,
            json!({"name": "c", "owner_id": app.admin_id, "program_id": their_program}),
        )
        .await
        .expect_error(422, "unknown_program");
    let absent = app
        .post(
            "/v1/controls",
            &ours.token,
            json!({"name": "c", "owner_id": app.admin_id, "program_id": "prg_doesnotexist"}),
        )
        .await
        .expect_error(422, "unknown_program");
    assert_eq!(our_program_missing.text, absent.text);
    // The directory too.
    app.get(&format!("/v1/users/{their_admin}"), &ours.token)
        .await
        .expect_error(404, "not_found");
}

async fn lists_page_with_opaque_cursors_that_cannot_be_replayed_or_edited(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let sa = app.sa_actor("admin").await;
    let (_, _, theirs) = app.other_org_actor().await;
    let mut made = Vec::new();
    for n in 0..5 {
        let risk = app
            .create_object(
                &sa,
                "risks",
                json!({"name": format!("Risk {n}"), "owner_id": app.admin_id}),
            )
            .await;
        made.push(risk["id"].as_str().unwrap().to_owned());
    }
    made.sort();

    let mut seen = Vec::new();
    let mut path = "/v1/risks?limit=2".to_owned();
    let mut cursors = Vec::new();
    loop {
        let page = app.get(&path, &sa.token).await.expect(200);
        let data = page.body["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(data.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                cursors.push(cursor.to_owned());
                path = format!("/v1/risks?limit=2&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!(seen, made);
    assert_eq!(cursors.len(), 2);

    let cursor = &cursors[0];
    // Replayed by another organization, on another collection, or edited: refused.
    app.get(&format!("/v1/risks?cursor={cursor}"), &theirs.token)
        .await
        .expect_error(400, "invalid_cursor");
    app.get(&format!("/v1/tasks?cursor={cursor}"), &sa.token)
        .await
        .expect_error(400, "invalid_cursor");
    let (payload, tag) = cursor.split_once('.').unwrap();
    let mut edited = payload.to_owned().into_bytes();
    let last = edited.len() - 2;
    edited[last] = if edited[last] == b'A' { b'B' } else { b'A' };
    let edited = String::from_utf8(edited).unwrap();
    for bad in [
        format!("{edited}.{tag}"),
        "garbage".to_owned(),
        format!("{payload}."),
    ] {
        app.get(&format!("/v1/risks?cursor={bad}"), &sa.token)
            .await
            .expect_error(400, "invalid_cursor");
    }
    for bad in ["0", "501", "-3", "many"] {
        app.get(&format!("/v1/risks?limit={bad}"), &sa.token)
            .await
            .expect_error(400, "invalid_limit");
    }
    let full = app.get("/v1/risks?limit=500", &sa.token).await.expect(200);
    assert_eq!(full.body["data"].as_array().unwrap().len(), 5);
    assert_eq!(full.body["next_cursor"], Value::Null);
    app.get("/v1/risks?colour=red", &sa.token)
        .await
        .expect_error(400, "invalid_request");
}

async fn the_directory_marks_service_principals_and_deactivated_people(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let reader = app.sa_actor("user").await;
    let (gone, _) = app.add_person("compliance_manager").await;
    app.patch(
        &format!("/api/v1/people/{gone}"),
        &app.admin,
        json!({"active": false}),
    )
    .await
    .expect(200);

    let all = app
        .get("/v1/users?limit=500", &reader.token)
        .await
        .expect(200);
    let entries = all.body["data"].as_array().unwrap();
    let find = |id: &str| entries.iter().find(|e| e["id"] == id).cloned().unwrap();
    let sp = find(&reader.principal_id);
    assert_eq!(sp["type"], "service_principal");
    assert_eq!(sp["active"], true);
    assert_eq!(find(&app.admin_id)["type"], "person");
    assert_eq!(find(&gone)["active"], false);

    let people = app
        .get("/v1/users?type=person", &reader.token)
        .await
        .expect(200);
    assert!(people.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["type"] == "person"));
    let one = app
        .get(&format!("/v1/users/{}", reader.principal_id), &reader.token)
        .await
        .expect(200);
    assert_eq!(one.body["type"], "service_principal");
    app.get("/v1/users?type=robot", &reader.token)
        .await
        .expect_error(400, "invalid_request");

    let auditor = app.sa_actor("external_auditor").await;
    let refused = app
        .get("/v1/users", &auditor.token)
        .await
        .expect_error(403, "insufficient_scope");
    assert!(refused.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("scope=\"user.read\""));
}

async fn missing_and_bad_tokens_are_401_and_missing_scopes_403_naming_the_scope(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let reply = app
        .get("/v1/programs", "")
        .await
        .expect_error(401, "invalid_token");
    assert!(reply.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let reply = app
        .get("/v1/programs", "not.a.token")
        .await
        .expect_error(401, "invalid_token");
    assert!(reply.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"invalid_token\""));
    // A session token is not an access token.
    app.get("/v1/programs", &app.admin)
        .await
        .expect_error(401, "invalid_token");

    let (client_id, secret, _) = app
        .create_service_account(&format!("Narrow {}", unique()), "admin", &["risk.read"])
        .await;
    let token = app.token(&client_id, &secret).await;
    app.get("/v1/risks", &token).await.expect(200);
    let reply = app
        .post(
            "/v1/risks",
            &token,
            json!({"name": "r", "owner_id": app.admin_id}),
        )
        .await
        .expect_error(403, "insufficient_scope");
    assert!(reply.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("risk.create"));
    assert!(reply.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("scope=\"risk.create\""));
}

async fn tokens_stop_working_within_a_second_when_their_grounds_go(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let person = app.personal_actor("user").await;
    let sa = app.sa_actor("user").await;
    let spare = app.sa_actor("user").await;
    for actor in [&person, &sa, &spare] {
        app.get("/v1/programs", &actor.token).await.expect(200);
    }

    app.patch(
        &format!("/api/v1/people/{}", person.principal_id),
        &app.admin,
        json!({"active": false}),
    )
    .await
    .expect(200);
    app.delete(&format!("/api/v1/api-clients/{}", sa.client_id), &app.admin)
        .await
        .expect(204);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for actor in [&person, &sa] {
        let reply = app
            .get("/v1/programs", &actor.token)
            .await
            .expect_error(401, "invalid_token");
        assert!(reply.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token"));
    }
    app.get("/v1/programs", &spare.token).await.expect(200);

    app.patch("/api/v1/org", &app.admin, json!({"m2m_enabled": false}))
        .await
        .expect(200);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    app.get("/v1/programs", &spare.token)
        .await
        .expect_error(401, "invalid_token");
}

async fn a_personal_client_follows_its_persons_role_changes(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let me = app.personal_actor("compliance_manager").await;
    app.create_object(&me, "risks", json!({"name": "before"}))
        .await;

    app.patch(
        &format!("/api/v1/people/{}", me.principal_id),
        &app.admin,
        json!({"role": "user"}),
    )
    .await
    .expect(200);

    // The old token still carries risk.create, but the person's role no longer permits it.
    app.post("/v1/risks", &me.token, json!({"name": "after"}))
        .await
        .expect_error(403, "insufficient_scope");
    app.get("/v1/risks", &me.token).await.expect(200);
}

async fn bad_input_is_refused_with_a_clear_code_and_never_a_server_error(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let sa = app.sa_actor("admin").await;
    let program = app.program(&sa).await;
    let owner = app.admin_id.clone();
    let many: Vec<String> = (0..51).map(|n| format!("usr_{n}")).collect();
    let cases: Vec<(&str, Value, u16, &str, Option<&str>)> = vec![
        (
            "risks",
            json!({"owner_id": owner}),
            422,
            "missing_field",
            Some("name"),
        ),
        (
            "risks",
            json!({"name": "  ", "owner_id": owner}),
            422,
            "invalid_field",
            Some("name"),
        ),
        (
            "risks",
            json!({"name": "x".repeat(201), "owner_id": owner}),
            422,
            "invalid_field",
            Some("name"),
        ),
        (
            "risks",
            json!({"name": "a\u{1}b", "owner_id": owner}),
            422,
            "invalid_field",
            Some("name"),
        ),
        (
            "risks",
            json!({"name": "r", "owner_id": owner, "description": "d".repeat(10_001)}),
            422,
            "invalid_field",
            Some("description"),
        ),
        (
            "risks",
            json!({"name": 5, "owner_id": owner}),
            400,
            "invalid_request",
            None,
        ),
        (
            "risks",
            json!({"name": "r", "owner_id": owner, "colour": "red"}),
            400,
            "invalid_request",
            None,
        ),
        (
            "risks",
            json!(["not", "an", "object"]),
            400,
            "invalid_request",
            None,
        ),
        (
            "risks",
            json!({"name": "r", "owner_id": owner, "program_id": program}),
            422,
            "field_not_allowed",
            Some("program_id"),
        ),
        (
            "programs",
            json!({"name": "r", "owner_id": owner, "assignee_id": owner}),
            422,
            "field_not_allowed",
            Some("assignee_id"),
        ),
        (
            "tasks",
            json!({"name": "r", "owner_id": owner, "auditor_ids": []}),
            422,
            "field_not_allowed",
            Some("auditor_ids"),
        ),
        (
            "controls",
            json!({"name": "c", "owner_id": owner}),
            422,
            "missing_field",
            Some("program_id"),
        ),
        (
            "controls",
            json!({"name": "c", "owner_id": owner, "program_id": "prg_nope"}),
            422,
            "unknown_program",
            Some("program_id"),
        ),
        (
            "audits",
            json!({"name": "a", "owner_id": owner, "auditor_ids": many}),
            422,
            "too_many_auditors",
            Some("auditor_ids"),
        ),
        (
            "audits",
            json!({"name": "a", "owner_id": owner, "auditor_ids": ["usr_nobody"]}),
            422,
            "unknown_principal",
            Some("auditor_ids"),
        ),
        (
            "tasks",
            json!({"name": "t", "owner_id": owner, "assignee_id": ""}),
            422,
            "unknown_principal",
            Some("assignee_id"),
        ),
        ("widgets", json!({"name": "w"}), 404, "not_found", None),
    ];
    for (collection, body, status, code, field) in cases {
        let reply = app
            .post(&format!("/v1/{collection}"), &sa.token, body.clone())
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (status, code),
            "{collection} {body}: {}",
            reply.text
        );
        if let Some(field) = field {
            assert_field(&reply, field);
        }
    }
    // Not JSON at all, and the wrong content type.
    let raw = app
        .http
        .post(format!("{}/v1/risks", app.address))
        .bearer_auth(&sa.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let raw = app
        .http
        .post(format!("{}/v1/risks", app.address))
        .bearer_auth(&sa.token)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 415);
    // An update with nothing in it; deleting a program that still has controls.
    let path = format!("/v1/programs/{program}");
    app.patch(&path, &sa.token, json!({}))
        .await
        .expect_error(400, "invalid_request");
    app.create_object(
        &sa,
        "controls",
        json!({"name": "c", "owner_id": owner, "program_id": program}),
    )
    .await;
    app.delete(&path, &sa.token)
        .await
        .expect_error(409, "program_has_controls");
    // Odd ids in paths are just missing objects.
    for id in ["%00", "prg_%27%3B--", &"x".repeat(300)] {
        app.get(&format!("/v1/programs/{id}"), &sa.token)
            .await
            .expect_error(404, "not_found");
    }
}

both_engines!(
    a_service_account_creates_a_control_owned_by_a_person_and_is_recorded_as_its_creator,
    a_service_principal_never_owns_or_is_assigned_work,
    owners_must_be_active_people_of_the_same_organization,
    a_personal_client_acts_as_its_person_and_owns_by_default,
    external_auditors_see_and_update_only_audits_that_list_them,
    internal_notes_are_seen_only_by_admins_and_api_admins,
    another_organizations_objects_are_byte_identical_to_missing_ones,
    lists_page_with_opaque_cursors_that_cannot_be_replayed_or_edited,
    the_directory_marks_service_principals_and_deactivated_people,
    missing_and_bad_tokens_are_401_and_missing_scopes_403_naming_the_scope,
    tokens_stop_working_within_a_second_when_their_grounds_go,
    a_personal_client_follows_its_persons_role_changes,
    bad_input_is_refused_with_a_clear_code_and_never_a_server_error,
);
