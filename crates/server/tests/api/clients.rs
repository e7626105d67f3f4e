//! Rules 4, 6, 7 and 11: the two client types and who manages them, scopes within the
//! creator's and the role's permissions, names and descriptions, and deleting a client.

use crate::both_engines;
use crate::helpers::{spawn_app, Engine, TestApp};
use crate::mgmt_helpers::{
    audit_about, audit_actions, listed_ids, second_org, service_account_body, stored_secrets,
};
use serde_json::{json, Value};
use tollgate_domain::{PrincipalKind, Role};

async fn service_principals(app: &TestApp) -> Vec<tollgate_store::Principal> {
    app.store
        .list_principals(
            &app.org_id,
            Some(PrincipalKind::ServicePrincipal),
            None,
            1000,
        )
        .await
        .unwrap()
}

/// Asserts that a refused create stored nothing: no new client, no create event.
async fn assert_nothing_stored(app: &TestApp, token: &str, clients_before: usize) {
    let list = app.get("/api/v1/api-clients", token).await.expect(200);
    assert_eq!(
        list.body["clients"].as_array().unwrap().len(),
        clients_before
    );
    assert!(
        !audit_actions(app)
            .await
            .iter()
            .any(|a| a == "api_client.create"),
        "a refused create must not be audited as a creation"
    );
}

// ---- Rule 4: service accounts ----

async fn a_service_account_gets_its_own_service_principal_with_the_chosen_role(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    let mut made = Vec::new();
    for role in [
        "admin",
        "api_admin",
        "compliance_manager",
        "user",
        "external_auditor",
    ] {
        let (id, _, body) = app
            .create_service_account(&format!("SA {role}"), role, &["audit.read"])
            .await;
        let client = &body["client"];
        assert_eq!(client["type"], "service_account");
        assert_eq!(client["role"], role);
        assert_eq!(client["principal"]["type"], "service_principal");
        let sp = client["principal"]["id"].as_str().unwrap().to_owned();
        assert!(sp.starts_with("sp_"), "{sp}");
        made.push((id, sp, role));
    }

    let principals = service_principals(&app).await;
    assert_eq!(principals.len(), 5);
    for (_, sp, role) in &made {
        let p = principals.iter().find(|p| &p.id == sp).expect("listed");
        assert_eq!(p.role.as_str(), *role);
        assert!(p.active);
        assert!(p.email.is_none(), "a service principal never signs in");
    }
    let people = app.get("/api/v1/people", &app.admin).await.expect(200);
    assert!(
        !people.text.contains("sp_"),
        "service principals are not people"
    );
}

async fn there_is_no_limit_on_service_account_clients(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    for n in 0..15 {
        app.create_service_account(&format!("Worker {n}"), "user", &["audit.read"])
            .await;
    }

    let ids = listed_ids(&app, "/api/v1/api-clients?type=service_account", &app.admin).await;
    assert_eq!(ids.len(), 15);
}

async fn every_admin_manages_every_service_account_client(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, other_admin) = app.add_person("admin").await;
    let (id, _, _) = app
        .create_service_account("Shared", "user", &["audit.read"])
        .await;
    let path = format!("/api/v1/api-clients/{id}");

    app.get(&path, &other_admin).await.expect(200);
    let listed = listed_ids(&app, "/api/v1/api-clients", &other_admin).await;
    app.patch(&path, &other_admin, json!({"description": "by the other"}))
        .await
        .expect(200);
    app.post(&format!("{path}/secrets"), &other_admin, json!({}))
        .await
        .expect(201);
    app.delete(&path, &other_admin).await.expect(204);

    assert_eq!(listed, vec![id.clone()]);
    app.get(&path, &app.admin)
        .await
        .expect_error(404, "not_found");
}

async fn only_admins_create_view_edit_or_delete_service_accounts(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, _, body) = app
        .create_service_account("Admins only", "user", &["audit.read"])
        .await;
    let secret_id = body["secret"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/api-clients/{id}");
    let sa_draft = app.open_draft(&app.admin, "service_account").await;

    for role in ["compliance_manager", "user", "external_auditor"] {
        let (_, token) = app.add_person(role).await;
        app.post(
            "/api/v1/api-clients",
            &token,
            service_account_body(&sa_draft, "Sneaky", "user", &["audit.read"]),
        )
        .await
        .expect_error(403, "forbidden");
        app.get("/api/v1/api-clients?type=service_account", &token)
            .await
            .expect_error(403, "forbidden");
        assert!(listed_ids(&app, "/api/v1/api-clients", &token)
            .await
            .is_empty());
        app.get(&path, &token).await.expect_error(404, "not_found");
        app.patch(&path, &token, json!({"name": "Mine now"}))
            .await
            .expect_error(404, "not_found");
        app.post(&format!("{path}/secrets"), &token, json!({}))
            .await
            .expect_error(404, "not_found");
        app.delete(&format!("{path}/secrets/{secret_id}"), &token)
            .await
            .expect_error(404, "not_found");
        app.delete(&path, &token)
            .await
            .expect_error(404, "not_found");
    }

    let client = app.get(&path, &app.admin).await.expect(200);
    assert_eq!(client.body["name"], "Admins only");
    assert_eq!(client.body["secrets"].as_array().unwrap().len(), 1);
}

async fn a_service_account_needs_a_role_and_a_personal_client_takes_none(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    app.try_create_client(
        &app.admin,
        "service_account",
        json!({"name": "No role", "scopes": ["audit.read"]}),
    )
    .await
    .expect_error(422, "role_required");
    app.try_create_client(
        &app.admin,
        "personal",
        json!({"name": "With role", "role": "user", "scopes": ["audit.read"]}),
    )
    .await
    .expect_error(422, "role_not_allowed");

    assert_nothing_stored(&app, &app.admin, 0).await;
}

// ---- Rule 4: personal clients ----

async fn every_role_can_create_a_personal_client(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    for role in ["admin", "compliance_manager", "user", "external_auditor"] {
        let (person, token) = app.add_person(role).await;
        let (_, _, body) = app
            .create_personal(&token, &format!("{role} laptop"), &["audit.read"])
            .await;
        let client = &body["client"];
        assert_eq!(client["type"], "personal");
        assert_eq!(client["role"], role);
        assert_eq!(client["principal"]["type"], "person");
        assert_eq!(client["principal"]["id"], person.as_str());
    }
    assert!(
        service_principals(&app).await.is_empty(),
        "a personal client has no service principal"
    );
}

async fn a_personal_client_is_visible_only_to_its_creator(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, owner) = app.add_person("user").await;
    let (id, _, body) = app
        .create_personal(&owner, "Private", &["audit.read"])
        .await;
    let secret_id = body["secret"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/api-clients/{id}");
    let missing = app
        .get(
            &format!("/api/v1/api-clients/{}", "Z".repeat(32)),
            &app.admin,
        )
        .await
        .expect(404);

    let (_, other_admin) = app.add_person("admin").await;
    let (_, peer) = app.add_person("user").await;
    for token in [&app.admin, &other_admin, &peer] {
        let read = app.get(&path, token).await.expect_error(404, "not_found");
        assert_eq!(read.text, missing.text);
        app.patch(&path, token, json!({"name": "Taken over"}))
            .await
            .expect_error(404, "not_found");
        app.post(&format!("{path}/secrets"), token, json!({}))
            .await
            .expect_error(404, "not_found");
        app.delete(&format!("{path}/secrets/{secret_id}"), token)
            .await
            .expect_error(404, "not_found");
        app.delete(&path, token)
            .await
            .expect_error(404, "not_found");
        assert!(!listed_ids(&app, "/api/v1/api-clients", token)
            .await
            .contains(&id));
        assert!(
            !listed_ids(&app, "/api/v1/api-clients?type=personal", token)
                .await
                .contains(&id)
        );
    }

    let mine = app.get(&path, &owner).await.expect(200);
    assert_eq!(mine.body["name"], "Private");
    assert_eq!(mine.body["secrets"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed_ids(&app, "/api/v1/api-clients", &owner).await,
        vec![id]
    );
}

async fn a_personal_client_follows_its_creators_current_role(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (person, token) = app.add_person("compliance_manager").await;
    let (id, _, body) = app
        .create_personal(&token, "Follows", &["control.create", "audit.read"])
        .await;
    assert_eq!(
        body["client"]["effective_scopes"],
        json!(["control.create", "audit.read"])
    );

    app.patch(
        &format!("/api/v1/people/{person}"),
        &app.admin,
        json!({"role": "user"}),
    )
    .await
    .expect(200);

    let client = app
        .get(&format!("/api/v1/api-clients/{id}"), &token)
        .await
        .expect(200);
    assert_eq!(client.body["role"], "user");
    assert_eq!(
        client.body["scopes"],
        json!(["control.create", "audit.read"])
    );
    assert_eq!(client.body["effective_scopes"], json!(["audit.read"]));
}

// ---- Rule 6: scopes ----

async fn a_client_needs_at_least_one_scope(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    app.try_create_client(
        &app.admin,
        "personal",
        json!({"name": "Empty", "scopes": []}),
    )
    .await
    .expect_error(422, "scopes_required");
    app.try_create_client(
        &app.admin,
        "service_account",
        json!({"name": "Empty", "role": "user", "scopes": []}),
    )
    .await
    .expect_error(422, "scopes_required");

    assert_nothing_stored(&app, &app.admin, 0).await;
}

async fn an_unknown_scope_is_refused_by_name(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    for bad in ["audit.fly", "user.create", "AUDIT.READ", ""] {
        let reply = app
            .try_create_client(
                &app.admin,
                "personal",
                json!({"name": "Odd", "scopes": ["audit.read", bad]}),
            )
            .await
            .expect_error(422, "unknown_scope");
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{bad}`")),
            "{}",
            reply.text
        );
        assert_eq!(reply.body["error"]["field"], "scopes");
    }

    assert_nothing_stored(&app, &app.admin, 0).await;
}

async fn a_person_grants_only_scopes_within_their_own_permissions(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let cases = [
        ("user", "control.create"),
        ("user", "audit.update"),
        ("compliance_manager", "audit.delete"),
        ("external_auditor", "user.read"),
        ("external_auditor", "control.read"),
    ];

    for (role, scope) in cases {
        let (_, token) = app.add_person(role).await;
        let reply = app
            .try_create_client(
                &token,
                "personal",
                json!({"name": "Greedy", "scopes": ["audit.read", scope]}),
            )
            .await
            .expect_error(422, "scope_not_allowed");
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(scope),
            "the refusal names {scope}: {}",
            reply.text
        );
        assert_nothing_stored(&app, &token, 0).await;
    }
}

async fn a_person_may_grant_every_scope_they_hold(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let catalogue = app.get("/api/v1/scopes", &app.admin).await.expect(200);
    let all: Vec<String> = catalogue.body["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scope"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(all.len(), 21);

    for role in ["admin", "compliance_manager", "user", "external_auditor"] {
        let (_, token) = app.add_person(role).await;
        let mine = app.get("/api/v1/scopes", &token).await.expect(200);
        let grantable: Vec<&str> = mine.body["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["grantable"] == true)
            .map(|s| s["scope"].as_str().unwrap())
            .collect();
        let (_, _, body) = app
            .create_personal(&token, &format!("All of {role}"), &grantable)
            .await;
        assert_eq!(body["client"]["scopes"], json!(grantable));
        let expected = match role {
            "admin" => 21,
            "compliance_manager" => 20,
            "user" => 6,
            _ => 2,
        };
        assert_eq!(grantable.len(), expected, "{role}");
    }
}

async fn a_service_accounts_scopes_must_lie_within_its_role(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let cases = [
        ("api_admin", "audit.update"),
        ("api_admin", "control.create"),
        ("user", "control.create"),
        ("external_auditor", "user.read"),
        ("compliance_manager", "audit.delete"),
    ];

    for (role, scope) in cases {
        let reply = app
            .try_create_client(
                &app.admin,
                "service_account",
                json!({"name": "Wide", "role": role, "scopes": ["audit.read", scope]}),
            )
            .await
            .expect_error(422, "scope_not_allowed_for_role");
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(scope),
            "the refusal names {scope}: {}",
            reply.text
        );
    }

    assert_nothing_stored(&app, &app.admin, 0).await;
    assert!(service_principals(&app).await.is_empty());
}

async fn the_scope_catalogue_for_a_role_offers_the_roles_permissions(engine: Engine) {
    let app = spawn_app(engine).await;
    let (_, user) = app.add_person("user").await;

    let api_admin = app
        .get("/api/v1/scopes?role=api_admin", &app.admin)
        .await
        .expect(200);
    let narrowed = app
        .get("/api/v1/scopes?role=admin", &user)
        .await
        .expect(200);
    app.get("/api/v1/scopes?role=robot", &app.admin)
        .await
        .expect_error(422, "invalid_role");

    let grantable = |v: &Value| -> Vec<String> {
        v["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["grantable"] == true)
            .map(|s| s["scope"].as_str().unwrap().to_owned())
            .collect()
    };
    let reads = grantable(&api_admin.body);
    assert_eq!(reads.len(), 6);
    assert!(reads.iter().all(|s| s.ends_with(".read")));
    assert_eq!(
        grantable(&narrowed.body).len(),
        6,
        "the caller's own permissions still bound the offer"
    );
}

async fn editing_scopes_follows_the_same_rules(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, user) = app.add_person("user").await;
    let (personal, _, _) = app.create_personal(&user, "Edit me", &["audit.read"]).await;
    let (sa, _, _) = app
        .create_service_account("Edit SA", "user", &["audit.read"])
        .await;

    let beyond_me = app
        .patch(
            &format!("/api/v1/api-clients/{personal}"),
            &user,
            json!({"scopes": ["audit.read", "risk.delete"]}),
        )
        .await
        .expect_error(422, "scope_not_allowed");
    let beyond_role = app
        .patch(
            &format!("/api/v1/api-clients/{sa}"),
            &app.admin,
            json!({"scopes": ["risk.delete"]}),
        )
        .await
        .expect_error(422, "scope_not_allowed_for_role");
    app.patch(
        &format!("/api/v1/api-clients/{sa}"),
        &app.admin,
        json!({"scopes": []}),
    )
    .await
    .expect_error(422, "scopes_required");

    assert!(beyond_me.text.contains("risk.delete"));
    assert!(beyond_role.text.contains("risk.delete"));
    let p = app
        .get(&format!("/api/v1/api-clients/{personal}"), &user)
        .await
        .expect(200);
    assert_eq!(p.body["scopes"], json!(["audit.read"]));
    let s = app
        .get(&format!("/api/v1/api-clients/{sa}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(s.body["scopes"], json!(["audit.read"]));
    let updates = audit_actions(&app)
        .await
        .into_iter()
        .filter(|a| a == "api_client.update")
        .count();
    assert_eq!(updates, 0, "refused edits are not logged as changes");
}

async fn a_role_change_must_keep_the_scopes_within_the_new_role(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (sa, _, body) = app
        .create_service_account(
            "Shrinks",
            "compliance_manager",
            &["control.create", "audit.read"],
        )
        .await;
    let sp = body["client"]["principal"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/api-clients/{sa}");

    let refused = app
        .patch(&path, &app.admin, json!({"role": "user"}))
        .await
        .expect_error(422, "scope_not_allowed_for_role");
    assert!(refused.text.contains("control.create"), "{}", refused.text);
    let changed = app
        .patch(
            &path,
            &app.admin,
            json!({"role": "user", "scopes": ["audit.read"]}),
        )
        .await
        .expect(200);

    assert_eq!(changed.body["role"], "user");
    assert_eq!(changed.body["scopes"], json!(["audit.read"]));
    let principal = app
        .store
        .get_principal(&app.org_id, &sp)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(principal.role, Role::User);
}

async fn a_personal_clients_role_cannot_be_edited(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, _, _) = app
        .create_personal(&app.admin, "Mine", &["audit.read"])
        .await;

    app.patch(
        &format!("/api/v1/api-clients/{id}"),
        &app.admin,
        json!({"role": "user"}),
    )
    .await
    .expect_error(422, "role_not_allowed");
}

// ---- Rule 7: names and descriptions ----

async fn names_are_trimmed_and_nfc_normalised(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    let (_, _, body) = app
        .create_personal(&app.admin, "  Cafe\u{301} sync \t", &["audit.read"])
        .await;

    assert_eq!(body["client"]["name"], "Caf\u{e9} sync");
}

async fn names_are_unique_per_org_and_type_ignoring_case_and_normalisation(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    app.create_service_account("Caf\u{e9} Sync", "user", &["audit.read"])
        .await;

    for clash in ["caf\u{e9} sync", "CAFE\u{301} SYNC", "  Caf\u{e9} Sync  "] {
        app.try_create_client(
            &app.admin,
            "service_account",
            json!({"name": clash, "role": "user", "scopes": ["audit.read"]}),
        )
        .await
        .expect_error(409, "name_taken");
    }
    // Another type, or another organization, may use the name.
    app.create_personal(&app.admin, "CAF\u{c9} SYNC", &["audit.read"])
        .await;
    let (_, globex) = second_org(&app).await;
    app.patch("/api/v1/org", &globex, json!({"m2m_enabled": true}))
        .await
        .expect(200);
    app.try_create_client(
        &globex,
        "service_account",
        json!({"name": "Caf\u{e9} Sync", "role": "user", "scopes": ["audit.read"]}),
    )
    .await
    .expect(201);

    let sas = listed_ids(&app, "/api/v1/api-clients?type=service_account", &app.admin).await;
    assert_eq!(sas.len(), 1);
}

async fn names_clash_under_full_unicode_case_folding(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    app.create_service_account("Straße Sync", "user", &["audit.read"])
        .await;
    let (other, _, _) = app
        .create_service_account("Sisyphus", "user", &["audit.read"])
        .await;
    app.create_personal(&app.admin, "ΣΊΣΥΦΟΣ", &["audit.read"])
        .await;

    // Lower-casing alone would let each of these through.
    for clash in ["STRASSE SYNC", "strasse sync", "Strasse Sync"] {
        app.try_create_client(
            &app.admin,
            "service_account",
            json!({"name": clash, "role": "user", "scopes": ["audit.read"]}),
        )
        .await
        .expect_error(409, "name_taken");
    }
    for clash in ["σίσυφος", "σίσυφοσ", "Σίσυφος"] {
        app.try_create_client(
            &app.admin,
            "personal",
            json!({"name": clash, "scopes": ["audit.read"]}),
        )
        .await
        .expect_error(409, "name_taken");
    }
    app.patch(
        &format!("/api/v1/api-clients/{other}"),
        &app.admin,
        json!({"name": "STRASSE sync"}),
    )
    .await
    .expect_error(409, "name_taken");
    // A different name is still a different name.
    app.create_service_account("Strase Sync", "user", &["audit.read"])
        .await;
}

async fn a_save_refused_as_name_taken_leaves_the_draft_usable_and_adds_no_principal(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    app.create_service_account("Taken", "user", &["audit.read"])
        .await;
    let principals_before = service_principals(&app).await.len();
    let clients_before = listed_ids(&app, "/api/v1/api-clients", &app.admin).await;
    let draft = app.open_draft(&app.admin, "service_account").await;

    app.post(
        "/api/v1/api-clients",
        &app.admin,
        service_account_body(&draft, "taken", "admin", &["audit.read"]),
    )
    .await
    .expect_error(409, "name_taken");

    assert_eq!(service_principals(&app).await.len(), principals_before);
    assert_eq!(
        listed_ids(&app, "/api/v1/api-clients", &app.admin).await,
        clients_before
    );
    let saved = app
        .post(
            "/api/v1/api-clients",
            &app.admin,
            service_account_body(&draft, "Not taken", "admin", &["audit.read"]),
        )
        .await
        .expect(201);
    assert_eq!(saved.body["client"]["client_id"], draft.as_str());
    assert_eq!(service_principals(&app).await.len(), principals_before + 1);
}

async fn concurrent_role_and_scope_edits_never_leave_a_scope_beyond_the_role(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    for round in 0..8 {
        let (sa, _, _) = app
            .create_service_account(
                &format!("Race {round}"),
                "compliance_manager",
                &["control.read"],
            )
            .await;
        let path = format!("/api/v1/api-clients/{sa}");

        // Each change is fine on its own; together they would give a User `control.create`.
        let (demote, widen) = tokio::join!(
            app.patch(&path, &app.admin, json!({"role": "user"})),
            app.patch(
                &path,
                &app.admin,
                json!({"scopes": ["control.read", "control.create"]})
            ),
        );

        let mut statuses = [demote.status.as_u16(), widen.status.as_u16()];
        statuses.sort();
        assert_eq!(
            statuses,
            [200, 422],
            "round {round}: {} / {}",
            demote.text,
            widen.text
        );
        let loser = if demote.status == 422 {
            &demote
        } else {
            &widen
        };
        assert_eq!(loser.code(), "scope_not_allowed_for_role", "{}", loser.text);
        assert!(loser.text.contains("control.create"), "{}", loser.text);
        let client = app.get(&path, &app.admin).await.expect(200);
        assert_eq!(
            client.body["scopes"], client.body["effective_scopes"],
            "round {round}: every scope lies within the role: {}",
            client.text
        );
    }
}

async fn personal_client_names_are_unique_across_the_organizations_people(engine: Engine) {
    // Current behaviour: the rule is "unique per org and type", so two people cannot both
    // have a personal client called "Laptop".
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, ann) = app.add_person("user").await;
    let (_, bob) = app.add_person("user").await;
    app.create_personal(&ann, "Laptop", &["audit.read"]).await;

    app.try_create_client(
        &bob,
        "personal",
        json!({"name": "laptop", "scopes": ["audit.read"]}),
    )
    .await
    .expect_error(409, "name_taken");
}

async fn renaming_to_a_taken_name_is_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    app.create_service_account("First", "user", &["audit.read"])
        .await;
    let (second, _, _) = app
        .create_service_account("Second", "user", &["audit.read"])
        .await;

    app.patch(
        &format!("/api/v1/api-clients/{second}"),
        &app.admin,
        json!({"name": "FIRST"}),
    )
    .await
    .expect_error(409, "name_taken");
    let renamed = app
        .patch(
            &format!("/api/v1/api-clients/{second}"),
            &app.admin,
            json!({"name": " SECOND "}),
        )
        .await
        .expect(200);

    assert_eq!(renamed.body["name"], "SECOND");
}

async fn a_deleted_clients_name_can_be_used_again(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, _, _) = app
        .create_service_account("Reused", "user", &["audit.read"])
        .await;
    app.delete(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect(204);

    app.create_service_account("Reused", "user", &["audit.read"])
        .await;
}

async fn names_are_one_to_a_hundred_characters(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    let hundred = "\u{e9}".repeat(100);
    let (id, _, body) = app
        .create_personal(&app.admin, &hundred, &["audit.read"])
        .await;
    assert_eq!(body["client"]["name"], hundred.as_str());
    for bad in ["", "   ", &"a".repeat(101), "tab\u{7}bell"] {
        app.try_create_client(
            &app.admin,
            "personal",
            json!({"name": bad, "scopes": ["audit.read"]}),
        )
        .await
        .expect_error(422, "invalid_name");
    }
    app.patch(
        &format!("/api/v1/api-clients/{id}"),
        &app.admin,
        json!({"name": "b".repeat(101)}),
    )
    .await
    .expect_error(422, "invalid_name");

    assert_eq!(
        listed_ids(&app, "/api/v1/api-clients", &app.admin)
            .await
            .len(),
        1
    );
}

async fn descriptions_are_optional_and_at_most_a_thousand_characters(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    let (_, _, none) = app
        .create_personal(&app.admin, "No text", &["audit.read"])
        .await;
    let full = app
        .try_create_client(
            &app.admin,
            "personal",
            json!({"name": "Full", "description": "d".repeat(1000), "scopes": ["audit.read"]}),
        )
        .await
        .expect(201);
    app.try_create_client(
        &app.admin,
        "personal",
        json!({"name": "Over", "description": "d".repeat(1001), "scopes": ["audit.read"]}),
    )
    .await
    .expect_error(422, "invalid_description");
    let id = full.body["client"]["client_id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/api-clients/{id}"),
        &app.admin,
        json!({"description": "e".repeat(1001)}),
    )
    .await
    .expect_error(422, "invalid_description");

    assert_eq!(none["client"]["description"], "");
    assert_eq!(
        full.body["client"]["description"].as_str().unwrap().len(),
        1000
    );
}

async fn name_description_scopes_and_role_can_be_edited_any_time(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, _, body) = app
        .create_service_account("Before", "user", &["audit.read"])
        .await;
    let sp = body["client"]["principal"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let after = app
        .patch(
            &format!("/api/v1/api-clients/{id}"),
            &app.admin,
            json!({"name": "After", "description": "now described", "scopes": ["control.create", "audit.read"], "role": "compliance_manager"}),
        )
        .await
        .expect(200);

    assert_eq!(after.body["name"], "After");
    assert_eq!(after.body["description"], "now described");
    assert_eq!(
        after.body["scopes"],
        json!(["control.create", "audit.read"])
    );
    assert_eq!(after.body["role"], "compliance_manager");
    let again = app
        .get(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(again.body, after.body);
    let principal = app
        .store
        .get_principal(&app.org_id, &sp)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (principal.name.as_str(), principal.role),
        ("After", Role::ComplianceManager)
    );
    let events = audit_about(&app, &id).await;
    assert_eq!(events[0]["action"], "api_client.update");
    app.patch(&format!("/api/v1/api-clients/{id}"), &app.admin, json!({}))
        .await
        .expect_error(400, "invalid_request");
}

// ---- Rule 11: deleting ----

async fn deleting_a_service_account_removes_secrets_and_deactivates_its_principal(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, _, body) = app
        .create_service_account("Doomed", "user", &["audit.read"])
        .await;
    let (keep, _, _) = app
        .create_service_account("Kept", "user", &["audit.read"])
        .await;
    let sp = body["client"]["principal"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/v1/api-clients/{id}/secrets"),
        &app.admin,
        json!({}),
    )
    .await
    .expect(201);

    app.delete(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect(204);

    app.get(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect_error(404, "not_found");
    app.delete(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect_error(404, "not_found");
    assert_eq!(
        listed_ids(&app, "/api/v1/api-clients", &app.admin).await,
        vec![keep.clone()]
    );
    let stored = stored_secrets(&app).await;
    assert!(stored.iter().all(|s| s.client_id != id), "{stored:?}");
    assert_eq!(stored.iter().filter(|s| s.client_id == keep).count(), 1);
    let principal = service_principals(&app)
        .await
        .into_iter()
        .find(|p| p.id == sp)
        .expect("the service principal is kept so history still names it");
    assert!(!principal.active);
    let events = audit_about(&app, &id).await;
    assert_eq!(events[0]["action"], "api_client.delete");
    assert!(app.store.client_credentials(&id).await.unwrap().is_none());
}

async fn deleting_a_personal_client_removes_it_and_its_secrets(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (person, token) = app.add_person("user").await;
    let (id, _, _) = app.create_personal(&token, "Gone", &["audit.read"]).await;

    app.delete(&format!("/api/v1/api-clients/{id}"), &token)
        .await
        .expect(204);

    app.get(&format!("/api/v1/api-clients/{id}"), &token)
        .await
        .expect_error(404, "not_found");
    assert!(listed_ids(&app, "/api/v1/api-clients", &token)
        .await
        .is_empty());
    assert!(stored_secrets(&app).await.is_empty());
    let me = app
        .store
        .get_principal(&app.org_id, &person)
        .await
        .unwrap()
        .unwrap();
    assert!(
        me.active,
        "deleting a personal client leaves its person alone"
    );
    let governance = app
        .get("/api/v1/governance/personal-clients", &app.admin)
        .await
        .expect(200);
    assert_eq!(governance.body["clients"], json!([]));
}

async fn a_deleted_clients_id_never_comes_back(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, _, _) = app
        .create_service_account("Once only", "user", &["audit.read"])
        .await;
    app.delete(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect(204);
    let now = tollgate_server::management::now();

    let reserved = app
        .store
        .create_draft(
            &tollgate_store::Draft {
                client_id: id.clone(),
                org_id: app.org_id.clone(),
                person_id: app.admin_id.clone(),
                client_type: tollgate_domain::ClientType::ServiceAccount,
                created_at: now,
                expires_at: now + chrono::Duration::hours(1),
            },
            None,
        )
        .await
        .unwrap();

    assert!(!reserved);
    app.post(
        "/api/v1/api-clients",
        &app.admin,
        service_account_body(&id, "Zombie", "user", &["audit.read"]),
    )
    .await
    .expect_error(404, "draft_not_found");
}

both_engines!(
    a_service_account_gets_its_own_service_principal_with_the_chosen_role,
    there_is_no_limit_on_service_account_clients,
    every_admin_manages_every_service_account_client,
    only_admins_create_view_edit_or_delete_service_accounts,
    a_service_account_needs_a_role_and_a_personal_client_takes_none,
    every_role_can_create_a_personal_client,
    a_personal_client_is_visible_only_to_its_creator,
    a_personal_client_follows_its_creators_current_role,
    a_client_needs_at_least_one_scope,
    an_unknown_scope_is_refused_by_name,
    a_person_grants_only_scopes_within_their_own_permissions,
    a_person_may_grant_every_scope_they_hold,
    a_service_accounts_scopes_must_lie_within_its_role,
    the_scope_catalogue_for_a_role_offers_the_roles_permissions,
    editing_scopes_follows_the_same_rules,
    a_role_change_must_keep_the_scopes_within_the_new_role,
    a_personal_clients_role_cannot_be_edited,
    names_are_trimmed_and_nfc_normalised,
    names_are_unique_per_org_and_type_ignoring_case_and_normalisation,
    names_clash_under_full_unicode_case_folding,
    a_save_refused_as_name_taken_leaves_the_draft_usable_and_adds_no_principal,
    concurrent_role_and_scope_edits_never_leave_a_scope_beyond_the_role,
    personal_client_names_are_unique_across_the_organizations_people,
    renaming_to_a_taken_name_is_refused,
    a_deleted_clients_name_can_be_used_again,
    names_are_one_to_a_hundred_characters,
    descriptions_are_optional_and_at_most_a_thousand_characters,
    name_description_scopes_and_role_can_be_edited_any_time,
    deleting_a_service_account_removes_secrets_and_deactivates_its_principal,
    deleting_a_personal_client_removes_it_and_its_secrets,
    a_deleted_clients_id_never_comes_back,
);
