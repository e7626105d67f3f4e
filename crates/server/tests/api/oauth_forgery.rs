//! Forged access tokens (issue 3, "Done when"): each kind is refused both by the verifier
//! library, fetching the real JWKS over HTTP as a resource server would, and by
//! `/oauth/introspect`, which answers `{"active":false}` and nothing else.
//!
//! Forgeries that need a valid signature (wrong `typ`, `iss`, `aud`, expired, future `nbf`,
//! unknown `kid`) are signed with the server's own private key, loaded the way the server
//! loads it; the first test shows that a token so signed with the genuine header and claims
//! is accepted, so each refusal below is due to the one thing forged.

use crate::both_engines;
use crate::helpers::{spawn_app, Engine, TestApp};
use crate::oauth_helpers::{claims, jwt_header};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::Utc;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tollgate_server::keys::MasterKey;
use tollgate_server::oauth::keys::Keys;
use tollgate_token_verifier::{Verifier, VerifierConfig, VerifyError};

/// A running server, a genuine token, and the two judges of forgeries.
struct Target {
    app: TestApp,
    /// The client that introspects (of the token's organization).
    caller: (String, String),
    genuine: String,
    issuer: String,
    audience: String,
    verifier: Verifier,
    server_keys: Keys,
}

impl Target {
    async fn new(engine: Engine) -> Target {
        let app = spawn_app(engine).await;
        app.enable_m2m().await;
        let (id, secret, _) = app
            .create_service_account("victim", "user", &["control.read", "risk.read"])
            .await;
        let genuine = app.token(&id, &secret).await;
        let issuer = app.address.clone();
        let audience = format!("{issuer}/v1");
        let verifier =
            Verifier::new(VerifierConfig::new(issuer.clone(), audience.clone())).expect("verifier");
        let master = MasterKey::load_or_create(&app.config).expect("master key");
        let server_keys = Keys::load(
            app.store.clone(),
            master.signing_kek(),
            "ES256",
            issuer.clone(),
            vec![audience.clone()],
            chrono::Duration::hours(1),
        )
        .await
        .expect("the server's keys");
        Target {
            app,
            caller: (id, secret),
            genuine,
            issuer,
            audience,
            verifier,
            server_keys,
        }
    }

    fn header(&self) -> Value {
        jwt_header(&self.genuine)
    }

    fn claims(&self) -> Value {
        claims(&self.genuine)
    }

    fn kid(&self) -> String {
        self.header()["kid"].as_str().expect("kid").to_owned()
    }

    /// Signs `header.claims` with the server's own active key.
    fn sign(&self, header: &Value, claims: &Value) -> String {
        let key = self.server_keys.active(Utc::now()).expect("an active key");
        assert_eq!(key.kid, self.kid(), "the key that signed the genuine token");
        let input = signing_input(header, claims);
        let signature = key.signer.sign(input.as_bytes()).expect("sign");
        format!("{input}.{}", b64(&signature))
    }

    /// The genuine claims with `changes` applied (a `null` removes the claim).
    fn claims_with(&self, changes: Value) -> Value {
        let mut claims = self.claims();
        for (k, v) in changes.as_object().expect("object") {
            if v.is_null() {
                claims.as_object_mut().expect("object").remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    }

    /// The genuine header with `changes` applied (a `null` removes the parameter).
    fn header_with(&self, changes: Value) -> Value {
        let mut header = self.header();
        for (k, v) in changes.as_object().expect("object") {
            if v.is_null() {
                header.as_object_mut().expect("object").remove(k);
            } else {
                header[k] = v.clone();
            }
        }
        header
    }

    async fn introspect(&self, token: &str) -> crate::helpers::Reply {
        self.app
            .introspect(&self.caller.0, &self.caller.1, token)
            .await
    }

    /// Asserts that the verifier refuses `token` for a reason `reason` accepts, and that
    /// introspection answers exactly `{"active":false}`.
    async fn assert_refused(&self, what: &str, token: &str, reason: fn(&VerifyError) -> bool) {
        match self.verifier.verify(token).await {
            Ok(claims) => panic!("{what}: the verifier accepted a forged token: {claims:?}"),
            Err(e) => assert!(reason(&e), "{what}: refused, but for another reason: {e:?}"),
        }
        let reply = self.introspect(token).await;
        assert_eq!(reply.status.as_u16(), 200, "{what}: {}", reply.text);
        assert_eq!(
            reply.body,
            json!({"active": false}),
            "{what}: introspection must say inactive and nothing else"
        );
    }

    /// Asserts that both judges accept `token`.
    async fn assert_accepted(&self, what: &str, token: &str) {
        let verified = self.verifier.verify(token).await;
        assert!(verified.is_ok(), "{what}: {verified:?}");
        let reply = self.introspect(token).await;
        assert_eq!(reply.body["active"], true, "{what}: {}", reply.text);
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn segment(value: &Value) -> String {
    b64(value.to_string().as_bytes())
}

fn signing_input(header: &Value, claims: &Value) -> String {
    format!("{}.{}", segment(header), segment(claims))
}

fn any_reason(_: &VerifyError) -> bool {
    true
}

fn now() -> i64 {
    Utc::now().timestamp()
}

/// An attacker's own P-256 key: signs, and describes itself as a public JWK.
struct AttackerKey {
    pair: EcdsaKeyPair,
    kid: String,
}

impl AttackerKey {
    fn new() -> AttackerKey {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("generate");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("load");
        AttackerKey {
            pair,
            kid: "attacker-key-1".into(),
        }
    }

    fn jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({"kty": "EC", "crv": "P-256", "kid": self.kid, "alg": "ES256", "use": "sig",
               "x": b64(&point[1..33]), "y": b64(&point[33..65])})
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = signing_input(header, claims);
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .expect("sign");
        format!("{input}.{}", b64(signature.as_ref()))
    }
}

fn hmac_sha(alg: &str, key: &[u8], header: &Value, claims: &Value) -> String {
    let algorithm = match alg {
        "HS256" => ring::hmac::HMAC_SHA256,
        "HS384" => ring::hmac::HMAC_SHA384,
        _ => ring::hmac::HMAC_SHA512,
    };
    let input = signing_input(header, claims);
    let tag = ring::hmac::sign(&ring::hmac::Key::new(algorithm, key), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// The published JWK of the server's signing key, and the JWKS document's text.
async fn published_key(t: &Target) -> (Value, String) {
    let text = t
        .app
        .http
        .get(format!("{}/.well-known/jwks.json", t.issuer))
        .send()
        .await
        .expect("JWKS")
        .text()
        .await
        .expect("text");
    let jwks: Value = serde_json::from_str(&text).expect("JSON");
    let kid = t.kid();
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("the signing key is published")
        .clone();
    (jwk, text)
}

async fn a_token_signed_with_the_servers_key_is_accepted_so_refusals_below_are_meaningful(
    engine: Engine,
) {
    // Arrange
    let t = Target::new(engine).await;

    // Act
    let resigned = t.sign(&t.header(), &t.claims());

    // Assert
    t.assert_accepted("the genuine token", &t.genuine).await;
    t.assert_accepted("re-signed with the server's key", &resigned)
        .await;
    let fresh = t.claims_with(json!({"jti": "fresh-jti-0001", "iat": now(), "nbf": now()}));
    t.assert_accepted("fresh claims, server's key", &t.sign(&t.header(), &fresh))
        .await;
}

async fn tokens_with_alg_none_are_refused(engine: Engine) {
    // Arrange
    let t = Target::new(engine).await;
    let genuine_signature = t.genuine.rsplit('.').next().expect("signature").to_owned();

    for alg in ["none", "None", "NONE", "nOnE"] {
        // Act
        let input = signing_input(&t.header_with(json!({ "alg": alg })), &t.claims());
        let unsigned = format!("{input}.");
        let with_signature = format!("{input}.{genuine_signature}");

        // Assert
        for token in [unsigned, with_signature] {
            t.assert_refused(&format!("alg {alg}"), &token, |e| {
                matches!(e, VerifyError::UnsupportedAlgorithm { .. })
            })
            .await;
        }
    }
}

async fn hs256_tokens_keyed_with_the_public_key_are_refused(engine: Engine) {
    // Arrange: every form in which the public key might be fed to an HMAC.
    let t = Target::new(engine).await;
    let (jwk, jwks_text) = published_key(&t).await;
    let x = URL_SAFE_NO_PAD
        .decode(jwk["x"].as_str().expect("x"))
        .expect("x");
    let y = URL_SAFE_NO_PAD
        .decode(jwk["y"].as_str().expect("y"))
        .expect("y");
    let point: Vec<u8> = [vec![0x04], x.clone(), y].concat();
    let spki_prefix =
        hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").expect("hex");
    let spki = [spki_prefix, point.clone()].concat();
    let pem_body = STANDARD.encode(&spki);
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n",
        &pem_body[..64],
        &pem_body[64..]
    );
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("the JWK as published", jwk.to_string().into_bytes()),
        ("the JWK Set document", jwks_text.into_bytes()),
        ("the x coordinate", x),
        ("the uncompressed point", point),
        ("the SPKI DER", spki),
        ("the SPKI PEM", pem.into_bytes()),
    ];

    for (name, secret) in &secrets {
        for alg in ["HS256", "HS384", "HS512"] {
            // Act
            let token = hmac_sha(
                alg,
                secret,
                &t.header_with(json!({ "alg": alg })),
                &t.claims(),
            );

            // Assert
            t.assert_refused(&format!("{alg} keyed with {name}"), &token, |e| {
                matches!(e, VerifyError::UnsupportedAlgorithm { .. })
            })
            .await;
        }
    }
}

async fn tokens_naming_an_unknown_kid_are_refused(engine: Engine) {
    // Arrange
    let t = Target::new(engine).await;
    let attacker = AttackerKey::new();

    // Act
    let server_signed_other_kid =
        t.sign(&t.header_with(json!({"kid": "no-such-key"})), &t.claims());
    let attacker_signed = attacker.sign(&t.header_with(json!({"kid": attacker.kid})), &t.claims());
    let without_kid = t.sign(&t.header_with(json!({"kid": null})), &t.claims());
    let empty_kid = t.sign(&t.header_with(json!({"kid": ""})), &t.claims());

    // Assert
    let unknown = |e: &VerifyError| matches!(e, VerifyError::UnknownKey { .. });
    t.assert_refused(
        "the server's key under another kid",
        &server_signed_other_kid,
        unknown,
    )
    .await;
    t.assert_refused("an attacker's key and kid", &attacker_signed, unknown)
        .await;
    t.assert_refused("no kid", &without_kid, any_reason).await;
    t.assert_refused("an empty kid", &empty_kid, any_reason)
        .await;
}

async fn tokens_carrying_their_own_key_in_the_header_are_refused(engine: Engine) {
    // Arrange: an attacker's JWKS, served over HTTP, counting the fetches it gets.
    let t = Target::new(engine).await;
    let attacker = AttackerKey::new();
    let fetches = Arc::new(AtomicUsize::new(0));
    let attacker_jwks = json!({ "keys": [attacker.jwk()] });
    let counter = fetches.clone();
    let router = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = attacker_jwks.clone();
            async move { axum::Json(body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let jku = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });

    let cases = [
        (
            "jwk, attacker kid",
            json!({"kid": attacker.kid, "jwk": attacker.jwk()}),
        ),
        ("jwk, the server's kid", json!({"jwk": attacker.jwk()})),
        (
            "jku, attacker kid",
            json!({"kid": attacker.kid, "jku": jku}),
        ),
        ("jku, the server's kid", json!({"jku": jku})),
        (
            "x5u, attacker kid",
            json!({"kid": attacker.kid, "x5u": jku}),
        ),
    ];
    for (what, changes) in cases {
        // Act
        let token = attacker.sign(&t.header_with(changes), &t.claims());

        // Assert
        t.assert_refused(what, &token, any_reason).await;
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        0,
        "nobody may fetch keys from a URL a token names"
    );
}

async fn tokens_of_the_wrong_type_are_refused(engine: Engine) {
    // Arrange
    let t = Target::new(engine).await;
    let cases = [
        ("typ JWT", json!({"typ": "JWT"})),
        ("typ jwt", json!({"typ": "jwt"})),
        ("typ application/jwt", json!({"typ": "application/jwt"})),
        ("typ id_token+jwt", json!({"typ": "id_token+jwt"})),
        ("typ empty", json!({"typ": ""})),
        ("typ not a string", json!({"typ": 1})),
        ("no typ", json!({"typ": null})),
    ];
    for (what, changes) in cases {
        // Act
        let token = t.sign(&t.header_with(changes), &t.claims());

        // Assert
        t.assert_refused(what, &token, |e| matches!(e, VerifyError::WrongType { .. }))
            .await;
    }
}

async fn tokens_from_another_issuer_are_refused(engine: Engine) {
    // Arrange
    let t = Target::new(engine).await;
    let cases = [
        ("another issuer", json!("https://evil.example")),
        (
            "the issuer with a trailing slash",
            json!(format!("{}/", t.issuer)),
        ),
        ("the issuer in upper case", json!(t.issuer.to_uppercase())),
        (
            "the issuer over https",
            json!(t.issuer.replace("http://", "https://")),
        ),
        ("the issuer as a list", json!([t.issuer])),
    ];
    for (what, iss) in cases {
        // Act
        let token = t.sign(&t.header(), &t.claims_with(json!({ "iss": iss })));

        // Assert
        t.assert_refused(what, &token, |e| {
            matches!(
                e,
                VerifyError::WrongIssuer { .. } | VerifyError::InvalidClaim { .. }
            )
        })
        .await;
    }
    let token = t.sign(&t.header(), &t.claims_with(json!({"iss": null})));
    t.assert_refused("no iss", &token, any_reason).await;
}

async fn tokens_for_another_audience_are_refused(engine: Engine) {
    // Arrange
    let t = Target::new(engine).await;
    let cases = [
        ("another audience", json!("https://evil.example/v1")),
        ("the issuer itself", json!(t.issuer)),
        (
            "the audience with a trailing slash",
            json!(format!("{}/", t.audience)),
        ),
        (
            "a list without the audience",
            json!(["https://evil.example/v1"]),
        ),
        ("an empty list", json!([])),
    ];
    for (what, aud) in cases {
        // Act
        let token = t.sign(&t.header(), &t.claims_with(json!({ "aud": aud })));

        // Assert
        t.assert_refused(what, &token, |e| {
            matches!(
                e,
                VerifyError::WrongAudience
                    | VerifyError::InvalidClaim { .. }
                    | VerifyError::MissingClaim { .. }
            )
        })
        .await;
    }
    let token = t.sign(&t.header(), &t.claims_with(json!({"aud": null})));
    t.assert_refused("no aud", &token, any_reason).await;
}

async fn expired_tokens_are_refused(engine: Engine) {
    // Arrange: beyond the verifier's leeway (30 s by default, never more than 60 s).
    let t = Target::new(engine).await;
    let n = now();
    let cases = [
        ("expired 61 s ago", n - 3600 - 61, n - 61),
        ("expired an hour ago", n - 7200, n - 3600),
        ("expired at the epoch", 0, 1),
    ];
    for (what, iat, exp) in cases {
        // Act
        let token = t.sign(
            &t.header(),
            &t.claims_with(json!({ "iat": iat, "nbf": iat, "exp": exp })),
        );

        // Assert
        t.assert_refused(what, &token, |e| matches!(e, VerifyError::Expired { .. }))
            .await;
    }
    let token = t.sign(&t.header(), &t.claims_with(json!({"exp": null})));
    t.assert_refused("no exp", &token, any_reason).await;
}

async fn tokens_not_yet_valid_are_refused(engine: Engine) {
    // Arrange
    let t = Target::new(engine).await;
    let n = now();
    for (what, nbf) in [
        ("nbf in 61 s", n + 61),
        ("nbf in an hour", n + 3600),
        ("nbf in a year", n + 365 * 86_400),
    ] {
        // Act
        let token = t.sign(
            &t.header(),
            &t.claims_with(json!({ "nbf": nbf, "exp": nbf + 3600 })),
        );

        // Assert
        t.assert_refused(what, &token, |e| {
            matches!(e, VerifyError::NotYetValid { .. })
        })
        .await;
    }
}

async fn tampered_tokens_are_refused(engine: Engine) {
    // Arrange
    let t = Target::new(engine).await;
    let parts: Vec<&str> = t.genuine.split('.').collect();
    let (header, signature) = (parts[0], parts[2]);
    let other = t.app.token(&t.caller.0, &t.caller.1).await;
    let other_signature = other.rsplit('.').next().expect("signature");
    let payload_changes = [
        (
            "a wider scope",
            json!({"scope": "control.read risk.read control.delete"}),
        ),
        ("another role", json!({"role": "admin"})),
        ("another subject", json!({"sub": "sp_someoneelse"})),
        ("another organization", json!({"org": "org_someoneelse"})),
        ("a later expiry", json!({"exp": now() + 86_400 * 365})),
        ("another client", json!({"client_id": "someone-else"})),
    ];

    for (what, changes) in payload_changes {
        // Act: the payload changed, the genuine signature kept.
        let token = format!("{header}.{}.{signature}", segment(&t.claims_with(changes)));

        // Assert
        t.assert_refused(&format!("payload with {what}"), &token, |e| {
            matches!(e, VerifyError::BadSignature)
        })
        .await;
    }
    let flipped = {
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).expect("signature");
        bytes[10] ^= 0x01;
        b64(&bytes)
    };
    let reordered_header = {
        let h = t.header();
        format!(r#"{{"kid":{},"typ":"at+jwt","alg":"ES256"}}"#, h["kid"])
    };
    let signature_cases = [
        (
            "one signature bit flipped",
            format!("{}.{}.{flipped}", parts[0], parts[1]),
        ),
        (
            "the signature truncated",
            format!("{}.{}.{}", parts[0], parts[1], &signature[..40]),
        ),
        (
            "another token's signature",
            format!("{}.{}.{other_signature}", parts[0], parts[1]),
        ),
        (
            "the header re-serialized",
            format!(
                "{}.{}.{signature}",
                b64(reordered_header.as_bytes()),
                parts[1]
            ),
        ),
        ("no signature", format!("{}.{}.", parts[0], parts[1])),
    ];
    for (what, token) in signature_cases {
        t.assert_refused(what, &token, any_reason).await;
    }
}

async fn malformed_tokens_are_refused(engine: Engine) {
    // Arrange
    let t = Target::new(engine).await;
    let g = t.genuine.clone();
    let parts: Vec<&str> = g.split('.').collect();
    let padded = parts
        .iter()
        .map(|p| format!("{p}{}", "=".repeat((4 - p.len() % 4) % 4)))
        .collect::<Vec<_>>()
        .join(".");
    let standard_alphabet = parts
        .iter()
        .map(|p| {
            let bytes = URL_SAFE_NO_PAD.decode(p).expect("segment");
            STANDARD.encode(bytes)
        })
        .collect::<Vec<_>>()
        .join(".");
    let cases: Vec<(&str, String)> = vec![
        ("one segment", "abc".into()),
        ("two segments", format!("{}.{}", parts[0], parts[1])),
        ("four segments", format!("{g}.{}", parts[2])),
        ("five segments (JWE-shaped)", format!("{g}.AAAA.BBBB")),
        ("only dots", "..".into()),
        ("a trailing dot", format!("{g}.")),
        (
            "header not base64url",
            format!("!!!.{}.{}", parts[1], parts[2]),
        ),
        (
            "payload not base64url",
            format!("{}.***.{}", parts[0], parts[2]),
        ),
        (
            "header not JSON",
            format!("{}.{}.{}", b64(b"not json"), parts[1], parts[2]),
        ),
        (
            "header a JSON array",
            format!("{}.{}.{}", b64(b"[1,2]"), parts[1], parts[2]),
        ),
        (
            "payload a JSON string",
            format!("{}.{}.{}", parts[0], b64(b"\"claims\""), parts[2]),
        ),
        ("padded base64", padded),
        ("standard base64 alphabet", standard_alphabet),
        ("surrounding spaces", format!(" {g} ")),
        ("a Bearer prefix", format!("Bearer {g}")),
        (
            "non-ASCII",
            format!("{}é.{}.{}", parts[0], parts[1], parts[2]),
        ),
        (
            "20 KiB long",
            format!("{}.{}.{}", parts[0], "A".repeat(20 * 1024), parts[2]),
        ),
    ];

    for (what, token) in cases {
        // Act / Assert
        t.assert_refused(what, &token, any_reason).await;
    }
    // Introspection still answers for the genuine token afterwards.
    t.assert_accepted("the genuine token", &t.genuine).await;
}

both_engines!(
    a_token_signed_with_the_servers_key_is_accepted_so_refusals_below_are_meaningful,
    tokens_with_alg_none_are_refused,
    hs256_tokens_keyed_with_the_public_key_are_refused,
    tokens_naming_an_unknown_kid_are_refused,
    tokens_carrying_their_own_key_in_the_header_are_refused,
    tokens_of_the_wrong_type_are_refused,
    tokens_from_another_issuer_are_refused,
    tokens_for_another_audience_are_refused,
    expired_tokens_are_refused,
    tokens_not_yet_valid_are_refused,
    tampered_tokens_are_refused,
    malformed_tokens_are_refused,
);
