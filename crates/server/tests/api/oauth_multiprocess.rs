//! Two Tollgate processes on one PostgreSQL database (issue 3, rule 5 and "Done when"): a
//! client created through one gets tokens from the other; a deletion, revocation,
//! deactivation or M2M switch-off made on one is honoured by the other within a second; both
//! sign with the same key, and a rotation is published by both before either signs with it.
//!
//! "Process" B is a second [`tollgate_server::Application`] in this test process with its own
//! caches, key ring and connection pool, over the database and master key of process A; it is
//! given A's address as its public URL, as two instances behind one load balancer would share
//! one issuer. PostgreSQL only: sharing one SQLite file between hosts is not supported.

use crate::helpers::{read, spawn_app, start, Engine, Reply, TestApp};
use crate::oauth_helpers::{basic, jwt_header};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tollgate_server::keys::MasterKey;
use tollgate_server::oauth::keys;

/// How long a change made on one process may take to be honoured by the other.
const WITHIN: Duration = Duration::from_secs(1);

/// The second process: only its OAuth endpoints are used.
struct Peer {
    address: String,
    http: reqwest::Client,
}

impl Peer {
    /// Starts process B over A's database, data directory (hence master key) and issuer.
    async fn start_beside(a: &TestApp) -> Peer {
        assert_eq!(a.engine, Engine::Postgres);
        let mut config = a.config.clone();
        config.public_url = Some(a.address.clone());
        let (address, _store) = start(config).await;
        assert_ne!(address, a.address, "B listens on its own port");
        Peer {
            address,
            http: reqwest::Client::new(),
        }
    }

    async fn form(&self, path: &str, authorization: &str, form: &[(&str, &str)]) -> Reply {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = self
            .http
            .post(format!("{}{path}", self.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", authorization)
            .body(body)
            .send()
            .await
            .expect("request sent to B");
        read(response).await
    }

    async fn request_token(&self, client_id: &str, secret: &str) -> Reply {
        self.form(
            "/oauth/token",
            &basic(client_id, secret),
            &[("grant_type", "client_credentials")],
        )
        .await
    }

    async fn token(&self, client_id: &str, secret: &str) -> String {
        let reply = self.request_token(client_id, secret).await.expect(200);
        reply.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    async fn introspect(&self, client_id: &str, secret: &str, token: &str) -> Reply {
        self.form(
            "/oauth/introspect",
            &basic(client_id, secret),
            &[("token", token)],
        )
        .await
    }

    async fn jwks_kids(&self) -> HashSet<String> {
        jwks_kids(&self.http, &self.address).await
    }
}

async fn jwks_kids(http: &reqwest::Client, address: &str) -> HashSet<String> {
    let jwks: Value = http
        .get(format!("{address}/.well-known/jwks.json"))
        .send()
        .await
        .expect("JWKS")
        .json()
        .await
        .expect("JWKS JSON");
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

fn kid(token: &str) -> String {
    jwt_header(token)["kid"].as_str().expect("kid").to_owned()
}

/// A and B with M2M on, and an "introspector" client (whose own state never changes) to ask
/// B about other clients' tokens.
async fn two_processes() -> (TestApp, Peer, (String, String)) {
    let a = spawn_app(Engine::Postgres).await;
    a.enable_m2m().await;
    let (id, secret, _) = a
        .create_service_account("introspector", "api_admin", &["user.read"])
        .await;
    let b = Peer::start_beside(&a).await;
    (a, b, (id, secret))
}

/// Polls `condition` until it holds, failing once [`WITHIN`] has passed since `since` (the
/// moment of the change on A).
async fn within_a_second<F, Fut>(since: Instant, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = since;
    loop {
        if condition().await {
            return;
        }
        assert!(
            started.elapsed() < WITHIN,
            "{what}: not yet seen on B after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts that B refuses both the token (introspection) and the credentials (token endpoint)
/// within a second of the change made on A.
async fn b_refuses_within_a_second(
    b: &Peer,
    introspector: &(String, String),
    client: (&str, &str),
    token: &str,
    what: &str,
    since: Instant,
) {
    let (iid, isecret) = introspector;
    within_a_second(since, &format!("{what} (introspection)"), || async {
        let reply = b.introspect(iid, isecret, token).await.expect(200);
        reply.body == json!({"active": false})
    })
    .await;
    within_a_second(since, &format!("{what} (token endpoint)"), || async {
        let reply = b.request_token(client.0, client.1).await;
        reply.status.as_u16() == 401 && reply.body["error"] == "invalid_client"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_created_on_one_process_gets_tokens_from_the_other() {
    // Arrange
    let (a, b, (iid, isecret)) = two_processes().await;
    let (client_id, secret, _) = a
        .create_service_account("made on A", "user", &["control.read", "risk.read"])
        .await;

    // Act
    let from_b = b.token(&client_id, &secret).await;
    let from_a = a.token(&client_id, &secret).await;

    // Assert: each process honours the other's token, and both sign with the same key.
    for token in [&from_a, &from_b] {
        let on_a = a.introspect(&iid, &isecret, token).await.expect(200);
        let on_b = b.introspect(&iid, &isecret, token).await.expect(200);
        assert_eq!(on_a.body["active"], true, "{}", on_a.text);
        assert_eq!(on_b.body["active"], true, "{}", on_b.text);
        assert_eq!(on_b.body["client_id"], client_id.as_str());
        assert_eq!(on_a.body["iss"], a.address.as_str());
    }
    assert_eq!(kid(&from_a), kid(&from_b), "both sign with the same key");
    assert_eq!(
        jwks_kids(&a.http, &a.address).await,
        b.jwks_kids().await,
        "both publish the same keys"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_deleted_on_one_process_is_refused_by_the_other_within_a_second() {
    // Arrange: B has authenticated the client and checked its token, so both are cached there.
    let (a, b, introspector) = two_processes().await;
    let (client_id, secret, _) = a
        .create_service_account("doomed", "user", &["control.read"])
        .await;
    let token = b.token(&client_id, &secret).await;
    let live = b.introspect(&introspector.0, &introspector.1, &token).await;
    assert_eq!(live.body["active"], true, "{}", live.text);

    // Act
    let since = Instant::now();
    a.delete(&format!("/api/v1/api-clients/{client_id}"), &a.admin)
        .await
        .expect(204);

    // Assert
    b_refuses_within_a_second(
        &b,
        &introspector,
        (&client_id, &secret),
        &token,
        "deleted client",
        since,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_on_one_process_is_inactive_on_the_other_within_a_second() {
    // Arrange
    let (a, b, (iid, isecret)) = two_processes().await;
    let (client_id, secret, _) = a
        .create_service_account("revoker", "user", &["control.read"])
        .await;
    let token = b.token(&client_id, &secret).await;
    let other = b.token(&client_id, &secret).await;
    assert_eq!(
        b.introspect(&iid, &isecret, &token).await.body["active"],
        true
    );

    // Act
    let since = Instant::now();
    a.revoke(&client_id, &secret, &token).await.expect(200);

    // Assert: the revoked token dies on B; the client and its other tokens live on.
    within_a_second(since, "revoked token", || async {
        b.introspect(&iid, &isecret, &token).await.expect(200).body == json!({"active": false})
    })
    .await;
    assert_eq!(
        b.introspect(&iid, &isecret, &other).await.body["active"],
        true
    );
    b.request_token(&client_id, &secret).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_deactivated_on_one_process_loses_their_personal_client_on_the_other() {
    // Arrange
    let (a, b, introspector) = two_processes().await;
    let (person_id, session) = a.add_person("compliance_manager").await;
    let (client_id, secret, _) = a
        .create_personal(&session, "my laptop", &["control.read"])
        .await;
    let token = b.token(&client_id, &secret).await;
    assert_eq!(
        b.introspect(&introspector.0, &introspector.1, &token)
            .await
            .body["active"],
        true
    );

    // Act
    let since = Instant::now();
    a.patch(
        &format!("/api/v1/people/{person_id}"),
        &a.admin,
        json!({"active": false}),
    )
    .await
    .expect(200);

    // Assert
    b_refuses_within_a_second(
        &b,
        &introspector,
        (&client_id, &secret),
        &token,
        "deactivated person",
        since,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m2m_turned_off_on_one_process_is_honoured_by_the_other_within_a_second() {
    // Arrange
    let (a, b, (iid, isecret)) = two_processes().await;
    let (client_id, secret, _) = a
        .create_service_account("worker", "user", &["control.read"])
        .await;
    let token = b.token(&client_id, &secret).await;
    assert_eq!(
        b.introspect(&iid, &isecret, &token).await.body["active"],
        true
    );

    // Act
    let since = Instant::now();
    a.patch("/api/v1/org", &a.admin, json!({"m2m_enabled": false}))
        .await
        .expect(200);

    // Assert: B stops issuing tokens to the organization's clients, and its introspection
    // no longer serves them either (a caller of the organization cannot authenticate while
    // M2M is off, so there is nobody left to whom the token could look active).
    within_a_second(since, "M2M off (token endpoint)", || async {
        let reply = b.request_token(&client_id, &secret).await;
        reply.status.as_u16() == 401 && reply.body["error"] == "invalid_client"
    })
    .await;
    b.introspect(&iid, &isecret, &token).await.expect(401);

    // Turning M2M back on on A restores service on B: the switch was the cause.
    let since = Instant::now();
    a.patch("/api/v1/org", &a.admin, json!({"m2m_enabled": true}))
        .await
        .expect(200);
    within_a_second(since, "M2M back on", || async {
        b.request_token(&client_id, &secret).await.status.as_u16() == 200
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_published_by_both_processes_before_either_signs_with_it() {
    // Arrange
    let (a, b, (iid, isecret)) = two_processes().await;
    let (client_id, secret, _) = a
        .create_service_account("rotation watcher", "user", &["control.read"])
        .await;
    let old_token = b.token(&client_id, &secret).await;
    let old_kid = kid(&old_token);
    assert_eq!(kid(&a.token(&client_id, &secret).await), old_kid);
    let publish_delay = chrono::Duration::seconds(a.config.key_publish_delay_seconds);
    assert_eq!(publish_delay.num_seconds(), 2, "the test config's delay");

    // Act: what `tollgate keys rotate` does.
    let master = MasterKey::load_or_create(&a.config).expect("master key");
    let (new_kid, activate_at) =
        keys::rotate(&a.store, &master.signing_kek(), "ES256", publish_delay)
            .await
            .expect("rotate");

    // Assert: sample both processes' JWKS and tokens until both sign with the new key.
    let started = Instant::now();
    let mut published: [Option<Instant>; 2] = [None, None];
    let mut signing: [Option<Instant>; 2] = [None, None];
    while signing.iter().any(Option::is_none) {
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "both processes should sign with the new key soon after {activate_at}: published {published:?}, signing {signing:?}"
        );
        let kids = [jwks_kids(&a.http, &a.address).await, b.jwks_kids().await];
        let tokens = [
            a.token(&client_id, &secret).await,
            b.token(&client_id, &secret).await,
        ];
        for i in 0..2 {
            if kids[i].contains(&new_kid) {
                published[i].get_or_insert_with(Instant::now);
            }
            let signed_with = kid(&tokens[i]);
            if signed_with == new_kid {
                signing[i].get_or_insert_with(Instant::now);
            } else {
                assert_eq!(signed_with, old_kid);
                assert!(signing[i].is_none(), "process {i} went back to the old key");
            }
            assert!(
                kids[i].contains(&old_kid),
                "the retired key stays published"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last_published = published.iter().flatten().max().expect("published");
    let first_signing = signing.iter().flatten().min().expect("signing");
    assert!(
        published.iter().all(Option::is_some) && last_published < first_signing,
        "both JWKS must list the new key before either signs with it: published {published:?}, signing {signing:?}"
    );
    assert!(chrono::Utc::now() >= activate_at);

    // The retired key still verifies the tokens it signed, on both processes.
    for on in [
        a.introspect(&iid, &isecret, &old_token).await,
        b.introspect(&iid, &isecret, &old_token).await,
    ] {
        assert_eq!(on.body["active"], true, "{}", on.text);
    }
    assert!(b
        .jwks_kids()
        .await
        .is_superset(&HashSet::from([old_kid.clone(), new_kid.clone()])));
}
