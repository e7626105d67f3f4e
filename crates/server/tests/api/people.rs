//! Rules 1 and 3: people hold exactly one role (never API admin); Admins add people, change
//! their role and deactivate them; nobody changes their own role; the last active Admin stays.

use crate::both_engines;
use crate::helpers::{spawn_app, Engine};
use crate::mgmt_helpers::{audit_about, unique};
use serde_json::json;

async fn an_admin_adds_a_person_with_each_role_a_person_may_hold(engine: Engine) {
    let app = spawn_app(engine).await;

    for role in ["admin", "compliance_manager", "user", "external_auditor"] {
        let (id, token) = app.add_person(role).await;
        let me = app.get("/api/v1/me", &token).await.expect(200);
        assert_eq!(me.body["id"], id.as_str());
        assert_eq!(me.body["role"], role);
        assert!(id.starts_with("usr_"), "{id}");
    }

    let people = app.get("/api/v1/people", &app.admin).await.expect(200);
    assert_eq!(people.body["people"].as_array().unwrap().len(), 5);
}

async fn nobody_can_be_given_the_api_admin_role(engine: Engine) {
    let app = spawn_app(engine).await;
    let (id, _) = app.add_person("user").await;

    app.post(
        "/api/v1/people",
        &app.admin,
        json!({"email": format!("x.{}@acme.test", unique()), "name": "X", "role": "api_admin", "password": "a long enough password"}),
    )
    .await
    .expect_error(422, "role_not_for_people");
    app.patch(
        &format!("/api/v1/people/{id}"),
        &app.admin,
        json!({"role": "api_admin"}),
    )
    .await
    .expect_error(422, "role_not_for_people");

    let people = app.get("/api/v1/people", &app.admin).await.expect(200);
    assert!(people.body["people"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["role"] != "api_admin"));
}

async fn a_person_without_a_password_gets_one_generated_once(engine: Engine) {
    let app = spawn_app(engine).await;
    let email = format!("gen.{}@acme.test", unique());

    let created = app
        .post(
            "/api/v1/people",
            &app.admin,
            json!({"email": email, "name": "Gen", "role": "user"}),
        )
        .await
        .expect(201);

    let password = created.body["initial_password"].as_str().expect("password");
    app.sign_in(&email, password).await;
    let people = app.get("/api/v1/people", &app.admin).await.expect(200);
    assert!(!people.text.contains(password));
}

async fn people_are_refused_for_bad_fields_and_duplicate_emails(engine: Engine) {
    let app = spawn_app(engine).await;
    let base = |email: &str, name: &str, password: &str| json!({"email": email, "name": name, "role": "user", "password": password});

    app.post(
        "/api/v1/people",
        &app.admin,
        base("not-an-email", "N", "a long enough password"),
    )
    .await
    .expect_error(422, "invalid_email");
    app.post(
        "/api/v1/people",
        &app.admin,
        base("n@acme.test", "   ", "a long enough password"),
    )
    .await
    .expect_error(422, "invalid_name");
    app.post(
        "/api/v1/people",
        &app.admin,
        base("n@acme.test", "N", "short"),
    )
    .await
    .expect_error(422, "password_too_short");
    app.post(
        "/api/v1/people",
        &app.admin,
        base("ADMIN@acme.test", "Dup", "a long enough password"),
    )
    .await
    .expect_error(409, "email_taken");
}

async fn only_an_admin_manages_people(engine: Engine) {
    let app = spawn_app(engine).await;
    let (target, _) = app.add_person("user").await;

    for role in ["compliance_manager", "user", "external_auditor"] {
        let (_, token) = app.add_person(role).await;
        app.get("/api/v1/people", &token)
            .await
            .expect_error(403, "forbidden");
        app.post(
            "/api/v1/people",
            &token,
            json!({"email": format!("y.{}@acme.test", unique()), "name": "Y", "role": "user"}),
        )
        .await
        .expect_error(403, "forbidden");
        app.patch(
            &format!("/api/v1/people/{target}"),
            &token,
            json!({"role": "admin"}),
        )
        .await
        .expect_error(403, "forbidden");
        app.patch(
            &format!("/api/v1/people/{target}"),
            &token,
            json!({"active": false}),
        )
        .await
        .expect_error(403, "forbidden");
    }

    let people = app.get("/api/v1/people", &app.admin).await.expect(200);
    let t = people.body["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == target.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (t["role"].as_str(), t["active"].as_bool()),
        (Some("user"), Some(true))
    );
}

async fn an_admin_changes_a_persons_role_and_it_is_audited(engine: Engine) {
    let app = spawn_app(engine).await;
    let (id, token) = app.add_person("user").await;

    let updated = app
        .patch(
            &format!("/api/v1/people/{id}"),
            &app.admin,
            json!({"role": "compliance_manager"}),
        )
        .await
        .expect(200);

    assert_eq!(updated.body["role"], "compliance_manager");
    let me = app.get("/api/v1/me", &token).await.expect(200);
    assert_eq!(me.body["role"], "compliance_manager");
    let events = audit_about(&app, &id).await;
    assert_eq!(events[0]["action"], "person.update");
    assert_eq!(events[0]["actor_id"], app.admin_id.as_str());
    assert_eq!(events[0]["details"]["role"], "compliance_manager");
}

async fn a_deactivated_person_loses_their_session_and_cannot_sign_in(engine: Engine) {
    let app = spawn_app(engine).await;
    let email = format!("leaver.{}@acme.test", unique());
    let created = app
        .post(
            "/api/v1/people",
            &app.admin,
            json!({"email": email, "name": "Leaver", "role": "user", "password": "a long enough password"}),
        )
        .await
        .expect(201);
    let id = created.body["person"]["id"].as_str().unwrap().to_owned();
    let token = app.sign_in(&email, "a long enough password").await;

    let updated = app
        .patch(
            &format!("/api/v1/people/{id}"),
            &app.admin,
            json!({"active": false}),
        )
        .await
        .expect(200);

    assert_eq!(updated.body["active"], false);
    app.get("/api/v1/me", &token)
        .await
        .expect_error(401, "unauthenticated");
    app.post(
        "/api/v1/sessions",
        "",
        json!({"email": email, "password": "a long enough password"}),
    )
    .await
    .expect_error(401, "invalid_credentials");
    let events = audit_about(&app, &id).await;
    assert_eq!(events[0]["action"], "person.deactivate");
}

async fn a_deactivated_person_can_be_reactivated(engine: Engine) {
    let app = spawn_app(engine).await;
    let (id, _) = app.add_person("user").await;
    app.patch(
        &format!("/api/v1/people/{id}"),
        &app.admin,
        json!({"active": false}),
    )
    .await
    .expect(200);

    let back = app
        .patch(
            &format!("/api/v1/people/{id}"),
            &app.admin,
            json!({"active": true}),
        )
        .await
        .expect(200);

    assert_eq!(back.body["active"], true);
}

async fn nobody_changes_their_own_role_or_deactivates_themselves(engine: Engine) {
    let app = spawn_app(engine).await;
    let (_, second_admin) = app.add_person("admin").await;
    let me = format!("/api/v1/people/{}", app.admin_id);

    app.patch(&me, &app.admin, json!({"role": "user"}))
        .await
        .expect_error(403, "cannot_change_own_role");
    app.patch(&me, &app.admin, json!({"active": false}))
        .await
        .expect_error(403, "cannot_deactivate_self");

    let still = app.get("/api/v1/me", &app.admin).await.expect(200);
    assert_eq!(still.body["role"], "admin");
    // Another Admin can, though.
    app.patch(&me, &second_admin, json!({"role": "user"}))
        .await
        .expect(200);
}

async fn a_non_admin_cannot_change_their_own_role_either(engine: Engine) {
    let app = spawn_app(engine).await;
    let (id, token) = app.add_person("user").await;

    app.patch(
        &format!("/api/v1/people/{id}"),
        &token,
        json!({"role": "admin"}),
    )
    .await
    .expect_error(403, "forbidden");

    let me = app.get("/api/v1/me", &token).await.expect(200);
    assert_eq!(me.body["role"], "user");
}

async fn the_only_admin_can_be_demoted_or_deactivated_by_nobody(engine: Engine) {
    let app = spawn_app(engine).await;
    let only = format!("/api/v1/people/{}", app.admin_id);
    let mut others = Vec::new();
    for role in ["compliance_manager", "user", "external_auditor"] {
        others.push(app.add_person(role).await.1);
    }

    app.patch(&only, &app.admin, json!({"role": "compliance_manager"}))
        .await
        .expect_error(403, "cannot_change_own_role");
    app.patch(&only, &app.admin, json!({"active": false}))
        .await
        .expect_error(403, "cannot_deactivate_self");
    for token in &others {
        app.patch(&only, token, json!({"role": "user"}))
            .await
            .expect_error(403, "forbidden");
        app.patch(&only, token, json!({"active": false}))
            .await
            .expect_error(403, "forbidden");
    }

    let me = app.get("/api/v1/me", &app.admin).await.expect(200);
    assert_eq!(
        (me.body["role"].as_str(), me.body["active"].as_bool()),
        (Some("admin"), Some(true))
    );
}

async fn an_admin_demoted_by_another_loses_admin_rights_at_once(engine: Engine) {
    let app = spawn_app(engine).await;
    let (second_id, second) = app.add_person("admin").await;

    app.patch(
        &format!("/api/v1/people/{second_id}"),
        &app.admin,
        json!({"role": "user"}),
    )
    .await
    .expect(200);

    app.get("/api/v1/people", &second)
        .await
        .expect_error(403, "forbidden");
    // The first Admin is now the last one and is still protected from themselves.
    app.patch(
        &format!("/api/v1/people/{}", app.admin_id),
        &app.admin,
        json!({"role": "user"}),
    )
    .await
    .expect_error(403, "cannot_change_own_role");
}

async fn demoting_or_deactivating_the_only_admin_is_refused_with_last_admin(engine: Engine) {
    let app = spawn_app(engine).await;
    // Only the store can try this: the API refuses self-changes before the rule applies.
    let audit = tollgate_store::AuditEvent {
        id: 0,
        org_id: Some(app.org_id.clone()),
        at: chrono::Utc::now(),
        actor_type: "system".into(),
        actor_id: None,
        action: "person.update".into(),
        target_type: Some("person".into()),
        target_id: Some(app.admin_id.clone()),
        source_ip: None,
        outcome: "success".into(),
        details: json!({}),
    };

    let demote = app
        .store
        .update_person(
            &app.org_id,
            &app.admin_id,
            Some(tollgate_domain::Role::User),
            None,
            None,
            &audit,
        )
        .await;
    let deactivate = app
        .store
        .update_person(&app.org_id, &app.admin_id, None, Some(false), None, &audit)
        .await;

    assert!(matches!(demote, Err(tollgate_store::WriteError::LastAdmin)));
    assert!(matches!(
        deactivate,
        Err(tollgate_store::WriteError::LastAdmin)
    ));
}

async fn two_concurrent_demotions_of_the_last_two_admins_leave_one_admin(engine: Engine) {
    let app = spawn_app(engine).await;
    let (second_id, second) = app.add_person("admin").await;

    // Each Admin demotes the other at the same moment.
    let (second_path, first_path) = (
        format!("/api/v1/people/{second_id}"),
        format!("/api/v1/people/{}", app.admin_id),
    );
    let (a, b) = tokio::join!(
        app.patch(&second_path, &app.admin, json!({"role": "user"})),
        app.patch(&first_path, &second, json!({"role": "user"})),
    );

    let statuses = {
        let mut s = [a.status.as_u16(), b.status.as_u16()];
        s.sort();
        s
    };
    // One wins; the loser is refused, either as the last Admin or because its session's
    // person is no longer an Admin by the time it is checked.
    assert_eq!(statuses[0], 200, "{} / {}", a.text, b.text);
    assert!(
        statuses[1] == 409 || statuses[1] == 403,
        "{} / {}",
        a.text,
        b.text
    );
    let people = app
        .store
        .list_principals(
            &app.org_id,
            Some(tollgate_domain::PrincipalKind::Person),
            None,
            100,
        )
        .await
        .unwrap();
    let admins = people
        .iter()
        .filter(|p| p.active && p.role == tollgate_domain::Role::Admin)
        .count();
    assert_eq!(admins, 1);
}

async fn two_concurrent_deactivations_of_the_last_two_admins_leave_one_admin(engine: Engine) {
    let app = spawn_app(engine).await;
    let (second_id, second) = app.add_person("admin").await;

    let (second_path, first_path) = (
        format!("/api/v1/people/{second_id}"),
        format!("/api/v1/people/{}", app.admin_id),
    );
    let (a, b) = tokio::join!(
        app.patch(&second_path, &app.admin, json!({"active": false})),
        app.patch(&first_path, &second, json!({"active": false})),
    );

    let people = app
        .store
        .list_principals(
            &app.org_id,
            Some(tollgate_domain::PrincipalKind::Person),
            None,
            100,
        )
        .await
        .unwrap();
    let admins = people
        .iter()
        .filter(|p| p.active && p.role == tollgate_domain::Role::Admin)
        .count();
    assert_eq!(admins, 1, "{} / {}", a.text, b.text);
}

async fn an_admin_demoted_at_the_same_moment_changes_nobody_afterwards(engine: Engine) {
    let app = spawn_app(engine).await;

    for round in 0..8 {
        let (second_id, second) = app.add_person("admin").await;
        let (target, _) = app.add_person("user").await;

        // The first Admin demotes the second while the second changes someone's role.
        let (second_path, target_path) = (
            format!("/api/v1/people/{second_id}"),
            format!("/api/v1/people/{target}"),
        );
        let (demote, change) = tokio::join!(
            app.patch(&second_path, &app.admin, json!({"role": "user"})),
            app.patch(&target_path, &second, json!({"role": "compliance_manager"})),
        );

        demote.expect(200);
        let events = crate::mgmt_helpers::audit_about(&app, &second_id).await;
        let demoted_at = events
            .iter()
            .find(|e| e["action"] == "person.update" && e["actor_id"] == app.admin_id.as_str())
            .expect("the demotion is logged")["id"]
            .as_i64()
            .unwrap();
        match change.status.as_u16() {
            // Allowed only if it was made before the demotion.
            200 => {
                let changed_at = crate::mgmt_helpers::audit_about(&app, &target)
                    .await
                    .iter()
                    .find(|e| e["action"] == "person.update")
                    .expect("the change is logged")["id"]
                    .as_i64()
                    .unwrap();
                assert!(
                    changed_at < demoted_at,
                    "round {round}: changed after being demoted"
                );
            }
            403 => {
                assert_eq!(change.code(), "forbidden", "{}", change.text);
                let person = app
                    .store
                    .get_principal(&app.org_id, &target)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(person.role, tollgate_domain::Role::User, "round {round}");
            }
            other => panic!("round {round}: {other} {}", change.text),
        }
    }
}

async fn changing_an_unknown_person_is_not_found(engine: Engine) {
    let app = spawn_app(engine).await;

    app.patch(
        "/api/v1/people/usr_doesnotexist",
        &app.admin,
        json!({"role": "user"}),
    )
    .await
    .expect_error(404, "not_found");
    app.patch("/api/v1/people/usr_doesnotexist", &app.admin, json!({}))
        .await
        .expect_error(400, "invalid_request");
}

both_engines!(
    an_admin_adds_a_person_with_each_role_a_person_may_hold,
    nobody_can_be_given_the_api_admin_role,
    a_person_without_a_password_gets_one_generated_once,
    people_are_refused_for_bad_fields_and_duplicate_emails,
    only_an_admin_manages_people,
    an_admin_changes_a_persons_role_and_it_is_audited,
    a_deactivated_person_loses_their_session_and_cannot_sign_in,
    a_deactivated_person_can_be_reactivated,
    nobody_changes_their_own_role_or_deactivates_themselves,
    a_non_admin_cannot_change_their_own_role_either,
    the_only_admin_can_be_demoted_or_deactivated_by_nobody,
    an_admin_demoted_by_another_loses_admin_rights_at_once,
    demoting_or_deactivating_the_only_admin_is_refused_with_last_admin,
    two_concurrent_demotions_of_the_last_two_admins_leave_one_admin,
    two_concurrent_deactivations_of_the_last_two_admins_leave_one_admin,
    changing_an_unknown_person_is_not_found,
    an_admin_demoted_at_the_same_moment_changes_nobody_afterwards,
);
