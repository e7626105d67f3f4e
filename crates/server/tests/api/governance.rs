//! Rule 12: Admins list every personal client's metadata (never a secret) and can revoke one;
//! the revocation is audited and its owner sees who revoked it and when.

use crate::both_engines;
use crate::helpers::{spawn_app, Engine};
use crate::mgmt_helpers::{audit_about, listed_ids, second_org, stored_secrets, time};
use chrono::{Duration, Utc};
use serde_json::json;

async fn admins_see_every_personal_clients_metadata_but_no_secret(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (ann_id, ann) = app.add_person("user").await;
    let (bob_id, bob) = app.add_person("compliance_manager").await;
    let (a, a_value, _) = app
        .create_personal(&ann, "Ann's laptop", &["audit.read"])
        .await;
    let (b, b_value, _) = app
        .create_personal(&bob, "Bob's script", &["control.read", "audit.create"])
        .await;
    app.create_service_account("Not personal", "user", &["audit.read"])
        .await;

    let list = app
        .get("/api/v1/governance/personal-clients", &app.admin)
        .await
        .expect(200);

    let clients = list.body["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 2, "service accounts are not listed");
    let ann_row = clients
        .iter()
        .find(|c| c["client_id"] == a.as_str())
        .unwrap();
    let bob_row = clients
        .iter()
        .find(|c| c["client_id"] == b.as_str())
        .unwrap();
    assert_eq!(ann_row["principal"]["id"], ann_id.as_str());
    assert_eq!(ann_row["name"], "Ann's laptop");
    assert_eq!(ann_row["scopes"], json!(["audit.read"]));
    assert_eq!(bob_row["principal"]["id"], bob_id.as_str());
    assert_eq!(bob_row["scopes"], json!(["control.read", "audit.create"]));
    let secret = &ann_row["secrets"][0];
    assert!(secret["expires_at"].is_string());
    assert!(secret.get("last_used_at").is_some());
    assert!(secret.get("value").is_none());
    assert!(!list.text.contains(&a_value) && !list.text.contains(&b_value));
}

async fn only_admins_may_use_the_governance_list(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, owner) = app.add_person("user").await;
    let (id, _, _) = app.create_personal(&owner, "Target", &["audit.read"]).await;

    for role in ["compliance_manager", "user", "external_auditor"] {
        let (_, token) = app.add_person(role).await;
        app.get("/api/v1/governance/personal-clients", &token)
            .await
            .expect_error(403, "forbidden");
        app.delete(&format!("/api/v1/governance/personal-clients/{id}"), &token)
            .await
            .expect_error(403, "forbidden");
    }
    app.get("/api/v1/governance/personal-clients", &owner)
        .await
        .expect_error(403, "forbidden");

    let mine = app
        .get(&format!("/api/v1/api-clients/{id}"), &owner)
        .await
        .expect(200);
    assert_eq!(mine.body["status"], "active");
}

async fn a_revocation_is_audited_and_the_owner_sees_who_and_when(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (owner_id, owner) = app.add_person("user").await;
    let (id, _, _) = app
        .create_personal(&owner, "Revoked", &["audit.read"])
        .await;
    let before = Utc::now() - Duration::seconds(1);

    app.delete(
        &format!("/api/v1/governance/personal-clients/{id}"),
        &app.admin,
    )
    .await
    .expect(204);

    let seen = app
        .get(&format!("/api/v1/api-clients/{id}"), &owner)
        .await
        .expect(200);
    assert_eq!(seen.body["status"], "revoked");
    assert_eq!(seen.body["revoked"]["by"]["id"], app.admin_id.as_str());
    assert_eq!(seen.body["revoked"]["by"]["name"], "Ada Admin");
    let at = time(&seen.body["revoked"]["at"]);
    assert!(at >= before && at <= Utc::now() + Duration::seconds(1));
    assert_eq!(seen.body["secrets"], json!([]));
    let listed = app.get("/api/v1/api-clients", &owner).await.expect(200);
    assert_eq!(listed.body["clients"][0]["status"], "revoked");
    let events = audit_about(&app, &id).await;
    assert_eq!(events[0]["action"], "api_client.revoke");
    assert_eq!(events[0]["actor_id"], app.admin_id.as_str());
    assert_eq!(events[0]["outcome"], "success");
    assert_eq!(events[0]["details"]["owner_id"], owner_id.as_str());
}

async fn a_revoked_client_stops_working_and_leaves_the_governance_list(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, owner) = app.add_person("user").await;
    let (id, _, _) = app.create_personal(&owner, "Stops", &["audit.read"]).await;
    let path = format!("/api/v1/api-clients/{id}");

    app.delete(
        &format!("/api/v1/governance/personal-clients/{id}"),
        &app.admin,
    )
    .await
    .expect(204);

    assert!(app.store.client_credentials(&id).await.unwrap().is_none());
    assert!(stored_secrets(&app).await.is_empty());
    let list = app
        .get("/api/v1/governance/personal-clients", &app.admin)
        .await
        .expect(200);
    assert_eq!(list.body["clients"], json!([]));
    app.delete(
        &format!("/api/v1/governance/personal-clients/{id}"),
        &app.admin,
    )
    .await
    .expect_error(404, "not_found");
    // The owner can read it but not change or revive it.
    app.patch(&path, &owner, json!({"name": "Revived"}))
        .await
        .expect_error(409, "client_revoked");
    app.post(&format!("{path}/secrets"), &owner, json!({}))
        .await
        .expect_error(409, "client_revoked");
    app.delete(&path, &owner)
        .await
        .expect_error(409, "client_revoked");
    // Others, Admins included, still get 404.
    app.get(&path, &app.admin)
        .await
        .expect_error(404, "not_found");
}

async fn a_revoked_clients_name_is_free_for_its_owner_again(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, owner) = app.add_person("user").await;
    let (id, _, _) = app.create_personal(&owner, "Again", &["audit.read"]).await;
    app.delete(
        &format!("/api/v1/governance/personal-clients/{id}"),
        &app.admin,
    )
    .await
    .expect(204);

    let (new_id, _, _) = app.create_personal(&owner, "Again", &["audit.read"]).await;

    let mine = listed_ids(&app, "/api/v1/api-clients", &owner).await;
    assert_eq!(mine, vec![id, new_id]);
}

async fn governance_revokes_only_personal_clients_of_the_organization(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (sa, _, _) = app
        .create_service_account("Service", "user", &["audit.read"])
        .await;
    let (_, globex) = second_org(&app).await;
    app.patch("/api/v1/org", &globex, json!({"m2m_enabled": true}))
        .await
        .expect(200);
    let theirs = app
        .try_create_client(
            &globex,
            "personal",
            json!({"name": "Theirs", "scopes": ["audit.read"]}),
        )
        .await
        .expect(201)
        .body["client"]["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let missing = app
        .delete(
            &format!("/api/v1/governance/personal-clients/{}", "Q".repeat(32)),
            &app.admin,
        )
        .await
        .expect_error(404, "not_found");

    let on_sa = app
        .delete(
            &format!("/api/v1/governance/personal-clients/{sa}"),
            &app.admin,
        )
        .await
        .expect_error(404, "not_found");
    let on_other_org = app
        .delete(
            &format!("/api/v1/governance/personal-clients/{theirs}"),
            &app.admin,
        )
        .await
        .expect_error(404, "not_found");

    assert_eq!(on_sa.text, missing.text);
    assert_eq!(on_other_org.text, missing.text);
    app.get(&format!("/api/v1/api-clients/{sa}"), &app.admin)
        .await
        .expect(200);
    app.get(&format!("/api/v1/api-clients/{theirs}"), &globex)
        .await
        .expect(200);
}

async fn an_admin_may_revoke_their_own_personal_client(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (id, _, _) = app
        .create_personal(&app.admin, "Own", &["audit.read"])
        .await;

    app.delete(
        &format!("/api/v1/governance/personal-clients/{id}"),
        &app.admin,
    )
    .await
    .expect(204);

    let seen = app
        .get(&format!("/api/v1/api-clients/{id}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(seen.body["status"], "revoked");
}

both_engines!(
    admins_see_every_personal_clients_metadata_but_no_secret,
    only_admins_may_use_the_governance_list,
    a_revocation_is_audited_and_the_owner_sees_who_and_when,
    a_revoked_client_stops_working_and_leaves_the_governance_list,
    a_revoked_clients_name_is_free_for_its_owner_again,
    governance_revokes_only_personal_clients_of_the_organization,
    an_admin_may_revoke_their_own_personal_client,
);
