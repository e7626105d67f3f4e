//! Rules the store checks again inside its write transaction, called directly (the API's own
//! earlier checks would otherwise hide them), and the token endpoint's care right after M2M
//! is switched back on.

use crate::both_engines;
use crate::compliance_helpers::scopes_of;
use crate::helpers::{spawn_app, Engine};
use serde_json::json;
use tollgate_domain::compliance::ObjectKind;
use tollgate_store::compliance::{ComplianceChanges, ComplianceWriteError};
use tollgate_store::{AuditEvent, WriteError};

fn audit_of(org_id: &str, actor_id: &str, target_id: &str) -> AuditEvent {
    AuditEvent {
        id: 0,
        org_id: Some(org_id.to_owned()),
        at: chrono::Utc::now(),
        actor_type: "person".into(),
        actor_id: Some(actor_id.to_owned()),
        action: "person.update".into(),
        target_type: Some("person".into()),
        target_id: Some(target_id.to_owned()),
        source_ip: None,
        outcome: "success".into(),
        details: json!({}),
    }
}

async fn an_auditors_update_is_refused_under_the_lock_once_the_audit_no_longer_lists_it(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let admin = app.sa_actor("admin").await;
    let listed = app.sa_actor("external_auditor").await;
    let other = app.sa_actor("external_auditor").await;
    let audit = app
        .create_object(
            &admin,
            "audits",
            json!({"name": "Fieldwork", "owner_id": app.admin_id,
                   "auditor_ids": [listed.principal_id]}),
        )
        .await;
    let id = audit["id"].as_str().unwrap();
    let rename = |name: &str| ComplianceChanges {
        name: Some(name.to_owned()),
        description: None,
        internal_notes: None,
        owner_id: None,
        program_id: None,
        assignee_id: None,
        auditor_ids: None,
    };
    let update = |principal: String, name: &'static str| {
        let store = app.store.clone();
        let org = app.org_id.clone();
        let client = listed.client_id.clone();
        let changes = rename(name);
        let id = id.to_owned();
        async move {
            store
                .update_compliance_object(
                    &org,
                    ObjectKind::Audit,
                    &id,
                    Some(&principal),
                    &changes,
                    &principal,
                    &client,
                    chrono::Utc::now(),
                )
                .await
        }
    };

    // Listed: the change lands. Not listed: the store refuses it as if the audit were missing.
    let changed = update(listed.principal_id.clone(), "by the auditor")
        .await
        .expect("a listed auditor changes the audit");
    assert_eq!(changed.name, "by the auditor");
    let refused = update(other.principal_id.clone(), "by a stranger").await;
    assert!(
        matches!(refused, Err(ComplianceWriteError::NotFound)),
        "{refused:?}"
    );

    // Taken off the audit after its request passed the handler's checks: refused too.
    app.patch(
        &format!("/v1/audits/{id}"),
        &admin.token,
        json!({"auditor_ids": [other.principal_id]}),
    )
    .await
    .expect(200);
    let late = update(listed.principal_id.clone(), "too late").await;
    assert!(
        matches!(late, Err(ComplianceWriteError::NotFound)),
        "{late:?}"
    );
    let now = app
        .get(&format!("/v1/audits/{id}"), &admin.token)
        .await
        .expect(200);
    assert_eq!(now.body["name"], "by the auditor");
}

async fn a_person_who_is_not_an_active_admin_changes_nobody(engine: Engine) {
    let app = spawn_app(engine).await;
    let (user_id, _) = app.add_person("user").await;
    let (target_id, _) = app.add_person("compliance_manager").await;
    let (former_admin, _) = app.add_person("admin").await;
    app.patch(
        &format!("/api/v1/people/{former_admin}"),
        &app.admin,
        json!({"active": false}),
    )
    .await
    .expect(200);

    for actor in [&user_id, &former_admin] {
        let result = app
            .store
            .update_person(
                &app.org_id,
                &target_id,
                Some(tollgate_domain::Role::Admin),
                None,
                Some(actor.as_str()),
                &audit_of(&app.org_id, actor, &target_id),
            )
            .await;
        assert!(
            matches!(result, Err(WriteError::ActorNotAdmin)),
            "{actor}: {result:?}"
        );
    }
    let people = app.get("/api/v1/people", &app.admin).await.expect(200);
    let target = people.body["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == target_id.as_str())
        .expect("the target is listed")
        .clone();
    assert_eq!(target["role"], "compliance_manager");

    // Nor adds anyone, nor changes the organization's settings.
    for actor in [&user_id, &former_admin] {
        let person = tollgate_store::NewPerson {
            id: tollgate_domain::ids::new_id("usr", &mut rand::rngs::OsRng),
            org_id: app.org_id.clone(),
            name: "Eve".into(),
            email: format!("eve.{}@acme.test", crate::mgmt_helpers::unique()),
            password_hash: "not a hash".into(),
            role: tollgate_domain::Role::Admin,
            now: chrono::Utc::now(),
        };
        let mut audit = audit_of(&app.org_id, actor, &person.id);
        audit.action = "person.create".into();
        let added = app.store.create_person(&person, &audit).await;
        assert!(
            matches!(added, Err(WriteError::ActorNotAdmin)),
            "{actor}: {added:?}"
        );
        audit.action = "org.update".into();
        let switched = app
            .store
            .update_org(
                &app.org_id,
                Some(true),
                tollgate_store::CapChange::Keep,
                &audit,
            )
            .await;
        assert!(
            matches!(switched, Err(WriteError::ActorNotAdmin)),
            "{actor}: {switched:?}"
        );
    }
    let org = app.get("/api/v1/org", &app.admin).await.expect(200);
    assert_eq!(org.body["m2m_enabled"], false);
    let people = app.get("/api/v1/people", &app.admin).await.expect(200);
    assert_eq!(people.body["people"].as_array().unwrap().len(), 4);

    // The organization's active Admin may.
    let done = app
        .store
        .update_person(
            &app.org_id,
            &target_id,
            Some(tollgate_domain::Role::User),
            None,
            Some(app.admin_id.as_str()),
            &audit_of(&app.org_id, &app.admin_id, &target_id),
        )
        .await
        .expect("an active Admin changes a role");
    assert_eq!(done.role, tollgate_domain::Role::User);
}

async fn a_token_issued_right_after_m2m_is_turned_back_on_is_live(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let scopes = scopes_of("user");
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let (client_id, secret, _) = app.create_service_account("Quick", "user", &scopes).await;
    let before = app.token(&client_id, &secret).await;

    for _ in 0..3 {
        app.patch("/api/v1/org", &app.admin, json!({"m2m_enabled": false}))
            .await
            .expect(200);
        app.patch("/api/v1/org", &app.admin, json!({"m2m_enabled": true}))
            .await
            .expect(200);
        // Asked for at once, within the second of the switch: still a live token.
        let fresh = app.token(&client_id, &secret).await;
        let seen = app
            .introspect(&client_id, &secret, &fresh)
            .await
            .expect(200);
        assert_eq!(seen.body["active"], true, "{}", seen.text);
        app.get("/v1/programs", &fresh).await.expect(200);
    }
    // The token from before the switch-off stays dead.
    let seen = app
        .introspect(&client_id, &secret, &before)
        .await
        .expect(200);
    assert_eq!(seen.body, json!({"active": false}));
}

both_engines!(
    an_auditors_update_is_refused_under_the_lock_once_the_audit_no_longer_lists_it,
    a_person_who_is_not_an_active_admin_changes_nobody,
    a_token_issued_right_after_m2m_is_turned_back_on_is_live,
);
