//! Helpers of the compliance-API tests: callers holding real access tokens from
//! `/oauth/token` (service accounts and personal clients of every role), a second
//! organization with its own caller, and objects made through the API.

use crate::helpers::{Reply, TestApp, ADMIN_PASSWORD};
use crate::mgmt_helpers::unique;
use serde_json::{json, Value};
use tollgate_domain::Role;

/// A caller of `/v1`: an API client, the principal it acts as, and a fresh access token.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The access token.
    pub token: String,
    /// `usr_…` (personal client) or `sp_…` (service account).
    pub principal_id: String,
    /// The API client.
    pub client_id: String,
}

/// Every scope a role permits, as names.
pub fn scopes_of(role: &str) -> Vec<String> {
    role.parse::<Role>().expect("role").permissions().names()
}

impl TestApp {
    /// A service-account client of `role` holding every scope of the role, with a token.
    pub async fn sa_actor(&self, role: &str) -> Actor {
        let scopes = scopes_of(role);
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let (client_id, secret, body) = self
            .create_service_account(&format!("SA {role} {}", unique()), role, &scopes)
            .await;
        let principal_id = body["client"]["principal"]["id"]
            .as_str()
            .expect("principal_id")
            .to_owned();
        assert!(principal_id.starts_with("sp_"), "{body}");
        let token = self.token(&client_id, &secret).await;
        Actor {
            token,
            principal_id,
            client_id,
        }
    }

    /// A new person of `role` (the organization's Admin for `admin`) with a personal client
    /// holding every scope of the role, and a token.
    pub async fn personal_actor(&self, role: &str) -> Actor {
        let (person_id, session) = if role == "admin" {
            (self.admin_id.clone(), self.admin.clone())
        } else {
            self.add_person(role).await
        };
        let scopes = scopes_of(role);
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let (client_id, secret, _) = self
            .create_personal(&session, &format!("Mine {}", unique()), &scopes)
            .await;
        let token = self.token(&client_id, &secret).await;
        Actor {
            token,
            principal_id: person_id,
            client_id,
        }
    }

    /// Creates an object through the API as `actor`, expecting 201; returns its body.
    pub async fn create_object(&self, actor: &Actor, collection: &str, body: Value) -> Value {
        self.post(&format!("/v1/{collection}"), &actor.token, body)
            .await
            .expect(201)
            .body
    }

    /// A program owned by the Admin, made by `actor`; its id.
    pub async fn program(&self, actor: &Actor) -> String {
        let owner = self.admin_id.clone();
        self.program_of(actor, &owner).await
    }

    /// A program owned by `owner`, made by `actor`; its id.
    pub async fn program_of(&self, actor: &Actor, owner: &str) -> String {
        let body = json!({"name": format!("Program {}", unique()), "owner_id": owner});
        self.create_object(actor, "programs", body).await["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Another organization with M2M on and an Admin service account there:
    /// `(org id, its Admin's person id, the actor)`.
    pub async fn other_org_actor(&self) -> (String, String, Actor) {
        let email = format!("admin.{}@globex.test", unique());
        let org = tollgate_server::bootstrap::create_org(
            &self.store,
            "Globex",
            &email,
            "Gus Globex",
            ADMIN_PASSWORD,
        )
        .await
        .expect("second org");
        let session = self.sign_in(&email, ADMIN_PASSWORD).await;
        self.patch("/api/v1/org", &session, json!({"m2m_enabled": true}))
            .await
            .expect(200);
        let draft = self.open_draft(&session, "service_account").await;
        let scopes = scopes_of("admin");
        let reply = self
            .post(
                "/api/v1/api-clients",
                &session,
                json!({"client_id": draft, "type": "service_account", "name": "Globex SA",
                       "role": "admin", "scopes": scopes}),
            )
            .await
            .expect(201);
        let client_id = reply.body["client"]["client_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let secret = reply.body["secret"]["value"].as_str().unwrap().to_owned();
        let principal_id = reply.body["client"]["principal"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let token = self.token(&client_id, &secret).await;
        (
            org.org_id,
            org.admin_id,
            Actor {
                token,
                principal_id,
                client_id,
            },
        )
    }
}

/// Asserts an error reply names `field`.
#[track_caller]
pub fn assert_field(reply: &Reply, field: &str) {
    assert_eq!(reply.body["error"]["field"], field, "body: {}", reply.text);
}
