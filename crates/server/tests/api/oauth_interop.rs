//! Interoperability with independent implementations (issue 3, "Done when"): the Rust
//! `oauth2` crate runs the client-credentials flow with either client authentication method
//! and introspects the token, and Python's PyJWT (not the `ring` code that signs, nor the
//! `jsonwebtoken` crate behind the verifier) verifies tokens of each signing algorithm through
//! the discovery document and the JWKS alone.

use crate::both_engines;
use crate::helpers::{spawn_app, start, test_config, Engine, ADMIN_PASSWORD};
use crate::oauth_helpers::{basic, jwt_header};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, ClientId, ClientSecret, IntrospectionUrl, RequestTokenError, Scope,
    TokenIntrospectionResponse, TokenResponse, TokenUrl,
};
use serde_json::{json, Value};
use std::time::Duration;
use tollgate_server::bootstrap;

/// An HTTP client for `oauth2` that, as its documentation requires, follows no redirects.
fn oauth2_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// Runs the client-credentials grant with `oauth2` and checks the answer and the token.
async fn oauth2_client_credentials_flow(engine: Engine, auth_type: AuthType) {
    // Arrange
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (client_id, secret, body) = app
        .create_service_account(
            "oauth2 crate",
            "compliance_manager",
            &["control.read", "control.update", "risk.read"],
        )
        .await;
    let client = BasicClient::new(ClientId::new(client_id.clone()))
        .set_client_secret(ClientSecret::new(secret.clone()))
        .set_auth_type(auth_type.clone())
        .set_token_uri(TokenUrl::new(format!("{}/oauth/token", app.address)).expect("URL"))
        .set_introspection_url(
            IntrospectionUrl::new(format!("{}/oauth/introspect", app.address)).expect("URL"),
        );
    let http = oauth2_http();

    // Act: every scope, then a narrower one.
    let all = client
        .exchange_client_credentials()
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("{auth_type:?}: {e:?}"));
    let narrow = client
        .exchange_client_credentials()
        .add_scope(Scope::new("control.read".into()))
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("{auth_type:?}: {e:?}"));
    let introspected = client
        .introspect(all.access_token())
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("{auth_type:?}: {e:?}"));

    // Assert
    assert_eq!(*all.token_type(), oauth2::basic::BasicTokenType::Bearer);
    assert_eq!(all.expires_in(), Some(Duration::from_secs(3600)));
    assert!(all.refresh_token().is_none(), "no refresh tokens");
    let scopes = |s: Option<&Vec<Scope>>| -> Vec<String> {
        let mut v: Vec<String> = s
            .expect("scope")
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        scopes(all.scopes()),
        ["control.read", "control.update", "risk.read"]
    );
    assert_eq!(scopes(narrow.scopes()), ["control.read"]);
    assert_eq!(jwt_header(all.access_token().secret())["typ"], "at+jwt");
    assert!(introspected.active());
    assert_eq!(
        introspected.client_id().map(|c| c.as_str()),
        Some(client_id.as_str())
    );
    assert_eq!(
        introspected.sub(),
        body["client"]["principal"]["id"].as_str()
    );
    assert_eq!(
        scopes(introspected.scopes()),
        ["control.read", "control.update", "risk.read"]
    );
}

async fn the_oauth2_crate_gets_tokens_with_client_secret_basic(engine: Engine) {
    oauth2_client_credentials_flow(engine, AuthType::BasicAuth).await;
}

async fn the_oauth2_crate_gets_tokens_with_client_secret_post(engine: Engine) {
    oauth2_client_credentials_flow(engine, AuthType::RequestBody).await;
}

async fn the_oauth2_crate_reads_refusals_as_standard_error_responses(engine: Engine) {
    // Arrange
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (client_id, secret, _) = app
        .create_service_account("oauth2 crate", "user", &["control.read"])
        .await;
    let http = oauth2_http();
    let token_url = TokenUrl::new(format!("{}/oauth/token", app.address)).expect("URL");

    for auth_type in [AuthType::BasicAuth, AuthType::RequestBody] {
        // Act: a wrong secret, then a scope the client does not hold.
        let wrong = BasicClient::new(ClientId::new(client_id.clone()))
            .set_client_secret(ClientSecret::new(format!("{secret}x")))
            .set_auth_type(auth_type.clone())
            .set_token_uri(token_url.clone());
        let refused = wrong
            .exchange_client_credentials()
            .request_async(&http)
            .await;
        let right = BasicClient::new(ClientId::new(client_id.clone()))
            .set_client_secret(ClientSecret::new(secret.clone()))
            .set_auth_type(auth_type.clone())
            .set_token_uri(token_url.clone());
        let too_wide = right
            .exchange_client_credentials()
            .add_scope(Scope::new("control.delete".into()))
            .request_async(&http)
            .await;

        // Assert
        match refused {
            Err(RequestTokenError::ServerResponse(e)) => {
                assert_eq!(*e.error(), BasicErrorResponseType::InvalidClient)
            }
            other => panic!("{auth_type:?}: expected invalid_client, got {other:?}"),
        }
        match too_wide {
            Err(RequestTokenError::ServerResponse(e)) => {
                assert_eq!(*e.error(), BasicErrorResponseType::InvalidScope)
            }
            other => panic!("{auth_type:?}: expected invalid_scope, got {other:?}"),
        }
    }
}

/// Runs `tests/interop/verify_token.py` (PyJWT): the verified header and claims, or the
/// script's reason for refusing.
async fn pyjwt_verify(issuer: &str, token: &str, audience: &str) -> Result<Value, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/verify_token.py");
    let output = tokio::process::Command::new("python3")
        .args([script, issuer, token, audience])
        .output()
        .await
        .expect("python3 runs (./scripts/test installs PyJWT)");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "PyJWT is missing: pip install \"pyjwt[crypto]\" (./scripts/test does): {stderr}"
    );
    if output.status.success() {
        Ok(serde_json::from_slice(&output.stdout).expect("the script prints JSON"))
    } else {
        Err(stderr)
    }
}

/// Checks PyJWT's view of a token issued to a service account of `org_id`.
fn assert_verified_claims(verified: &Value, issuer: &str, alg: &str, client: &Value, org_id: &str) {
    let (header, claims) = (&verified["header"], &verified["claims"]);
    assert_eq!(header["alg"], alg);
    assert_eq!(header["typ"], "at+jwt");
    assert!(header["kid"].is_string());
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["aud"], format!("{issuer}/v1"));
    assert_eq!(claims["sub"], client["principal"]["id"]);
    assert_eq!(claims["client_id"], client["client_id"]);
    assert_eq!(claims["org"], org_id);
    assert_eq!(claims["role"], client["role"]);
    assert_eq!(claims["principal_type"], "service_principal");
    assert_eq!(claims["scope"], "control.read risk.read");
    let (iat, nbf, exp) = (
        claims["iat"].as_i64().expect("iat"),
        claims["nbf"].as_i64().expect("nbf"),
        claims["exp"].as_i64().expect("exp"),
    );
    assert!(nbf <= iat + 1 && exp - iat == 3600, "{claims}");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
}

async fn pyjwt_verifies_an_es256_token_through_discovery_and_the_jwks(engine: Engine) {
    // Arrange
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (client_id, secret, body) = app
        .create_service_account("python", "user", &["control.read", "risk.read"])
        .await;
    let token = app.token(&client_id, &secret).await;
    let audience = format!("{}/v1", app.address);

    // Act
    let verified = pyjwt_verify(&app.address, &token, &audience).await;

    // Assert
    let verified = verified.unwrap_or_else(|e| panic!("PyJWT refused a genuine token: {e}"));
    assert_verified_claims(
        &verified,
        &app.address,
        "ES256",
        &body["client"],
        &app.org_id,
    );
}

async fn pyjwt_refuses_what_the_issuer_did_not_sign_for_it(engine: Engine) {
    // Arrange: the script must be a real check, not a pretty-printer.
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (client_id, secret, _) = app
        .create_service_account("python", "user", &["control.read"])
        .await;
    let token = app.token(&client_id, &secret).await;
    let audience = format!("{}/v1", app.address);
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[2] = tamper(&parts[2]);
    let tampered = parts.join(".");

    // Act / Assert
    let wrong_aud = pyjwt_verify(&app.address, &token, "https://elsewhere.example").await;
    assert!(wrong_aud.is_err_and(|e| e.contains("Audience")));
    let bad_sig = pyjwt_verify(&app.address, &tampered, &audience).await;
    assert!(bad_sig.is_err_and(|e| e.contains("Signature")));
}

/// Flips one character of a base64url segment, keeping it valid base64url.
fn tamper(segment: &str) -> String {
    let mut chars: Vec<char> = segment.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// Starts Tollgate with `signing_alg` configured, one organization with M2M on and one
/// service-account client: `(data dir, base URL, org id, client body, secret)`.
async fn spawn_signing_with(
    engine: Engine,
    alg: &str,
) -> (tempfile::TempDir, String, String, Value, String) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(engine, data_dir.path()).await;
    config.signing_alg = alg.to_owned();
    let (address, store) = start(config).await;
    let org = bootstrap::create_org(&store, "Acme", "admin@acme.test", "Ada", ADMIN_PASSWORD)
        .await
        .expect("bootstrap");
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, token: Option<&str>, body: Value| {
        let mut req = http.request(method, format!("{address}{path}")).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let response = req.send().await.expect("request sent");
            assert!(response.status().is_success(), "{}", response.status());
            response.json::<Value>().await.unwrap_or(Value::Null)
        }
    };
    let session = call(
        reqwest::Method::POST,
        "/api/v1/sessions",
        None,
        json!({"email": "admin@acme.test", "password": ADMIN_PASSWORD}),
    )
    .await["session_token"]
        .as_str()
        .expect("session")
        .to_owned();
    let s = Some(session.as_str());
    call(
        reqwest::Method::PATCH,
        "/api/v1/org",
        s,
        json!({"m2m_enabled": true}),
    )
    .await;
    let draft = call(
        reqwest::Method::POST,
        "/api/v1/api-clients/drafts",
        s,
        json!({"type": "service_account"}),
    )
    .await;
    let created = call(
        reqwest::Method::POST,
        "/api/v1/api-clients",
        s,
        json!({"client_id": draft["client_id"], "type": "service_account", "name": alg,
               "role": "user", "scopes": ["control.read", "risk.read"]}),
    )
    .await;
    let secret = created["secret"]["value"]
        .as_str()
        .expect("secret")
        .to_owned();
    (
        data_dir,
        address,
        org.org_id,
        created["client"].clone(),
        secret,
    )
}

async fn pyjwt_verifies_tokens_signed_with_each_configurable_algorithm(engine: Engine) {
    for alg in ["EdDSA", "RS256"] {
        // Arrange
        let (_dir, address, org_id, client, secret) = spawn_signing_with(engine, alg).await;
        let app_token = {
            let http = reqwest::Client::new();
            let reply: Value = http
                .post(format!("{address}/oauth/token"))
                .header(
                    "authorization",
                    basic(client["client_id"].as_str().expect("id"), &secret),
                )
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .expect("token request")
                .json()
                .await
                .expect("JSON");
            reply["access_token"]
                .as_str()
                .unwrap_or_else(|| panic!("{alg}: {reply}"))
                .to_owned()
        };

        // Act
        let verified = pyjwt_verify(&address, &app_token, &format!("{address}/v1")).await;

        // Assert
        let verified = verified.unwrap_or_else(|e| panic!("PyJWT refused a {alg} token: {e}"));
        assert_verified_claims(&verified, &address, alg, &client, &org_id);
    }
}

both_engines!(
    the_oauth2_crate_gets_tokens_with_client_secret_basic,
    the_oauth2_crate_gets_tokens_with_client_secret_post,
    the_oauth2_crate_reads_refusals_as_standard_error_responses,
    pyjwt_verifies_an_es256_token_through_discovery_and_the_jwks,
    pyjwt_refuses_what_the_issuer_did_not_sign_for_it,
    pyjwt_verifies_tokens_signed_with_each_configurable_algorithm,
);
