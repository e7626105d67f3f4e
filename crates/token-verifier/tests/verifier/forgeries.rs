//! Every forged or unfit token is refused, each with the variant that says why.

use crate::helpers::{b64, keys, now, signing_input, valid_claims, with, JwksServer, TestKey};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use tollgate_token_verifier::{SigningAlgorithm, Verifier, VerifyError};

async fn refusal(server: &JwksServer, token: &str) -> VerifyError {
    server
        .verifier()
        .verify(token)
        .await
        .expect_err("the token must be refused")
}

#[tokio::test]
async fn refuses_a_token_signed_with_alg_none() {
    let server = JwksServer::start().await;
    let key = &keys().es256;

    for alg in ["none", "None", "NONE"] {
        let header = json!({ "alg": alg, "typ": "at+jwt", "kid": key.kid });
        let token = format!("{}.", signing_input(&header, &valid_claims(&server.issuer)));

        let error = refusal(&server, &token).await;

        assert!(
            matches!(&error, VerifyError::UnsupportedAlgorithm { alg: found } if found == alg),
            "{alg}: {error:?}"
        );
    }
}

#[tokio::test]
async fn refuses_an_hs256_token_signed_with_the_public_key_as_hmac_secret() {
    // The classic key-confusion attack: HMAC keyed with the bytes of a published public key.
    let server = JwksServer::start().await;
    for key in [&keys().es256, &keys().rs256] {
        for secret in [key.public_bytes.clone(), key.jwk.to_string().into_bytes()] {
            let header = json!({ "alg": "HS256", "typ": "at+jwt", "kid": key.kid });
            let input = signing_input(&header, &valid_claims(&server.issuer));
            let signature = jsonwebtoken::crypto::sign(
                input.as_bytes(),
                &EncodingKey::from_secret(&secret),
                Algorithm::HS256,
            )
            .unwrap();

            let error = refusal(&server, &format!("{input}.{signature}")).await;

            assert!(
                matches!(&error, VerifyError::UnsupportedAlgorithm { alg } if alg == "HS256"),
                "{error:?}"
            );
        }
    }
}

#[tokio::test]
async fn refuses_an_algorithm_left_out_of_the_configured_allow_list() {
    let server = JwksServer::start().await;
    let config = server.config().with_algorithms([SigningAlgorithm::Es256]);
    let verifier = Verifier::new(config).unwrap();
    let token = keys().rs256.token(&valid_claims(&server.issuer));

    let error = verifier.verify(&token).await.unwrap_err();

    assert!(
        matches!(&error, VerifyError::UnsupportedAlgorithm { alg } if alg == "RS256"),
        "{error:?}"
    );
}

#[tokio::test]
async fn refuses_a_token_whose_kid_is_not_in_the_jwks() {
    let server = JwksServer::start().await;
    let stranger = TestKey::es256("not-published");
    let token = stranger.token(&valid_claims(&server.issuer));

    let error = refusal(&server, &token).await;

    assert!(
        matches!(&error, VerifyError::UnknownKey { kid } if kid == "not-published"),
        "{error:?}"
    );
}

#[tokio::test]
async fn refuses_a_token_whose_alg_does_not_match_the_key_its_kid_names() {
    // Signed with the RSA key, but naming the ES256 key's kid: the kid decides, not the token.
    let server = JwksServer::start().await;
    let header = json!({ "alg": "RS256", "typ": "at+jwt", "kid": keys().es256.kid });
    let token = keys().rs256.sign(&header, &valid_claims(&server.issuer));

    let error = refusal(&server, &token).await;

    assert!(
        matches!(
            error,
            VerifyError::KeyAlgorithmMismatch {
                key_alg: "ES256",
                token_alg: "RS256",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn refuses_a_token_signed_by_another_key_under_a_published_kid() {
    let server = JwksServer::start().await;
    let impostor = TestKey::es256(&keys().es256.kid);
    let token = impostor.token(&valid_claims(&server.issuer));

    let error = refusal(&server, &token).await;

    assert!(matches!(error, VerifyError::BadSignature), "{error:?}");
}

#[tokio::test]
async fn refuses_a_token_that_carries_its_own_key_in_the_header() {
    // An attacker signs with their own key and embeds it (jwk) or points at it (jku, x5u, x5c).
    let server = JwksServer::start().await;
    let attacker = TestKey::es256(&keys().es256.kid);
    let cases: [(&str, Value); 5] = [
        ("jwk", attacker.jwk.clone()),
        ("jku", json!("https://attacker.test/jwks.json")),
        ("x5u", json!("https://attacker.test/cert.pem")),
        ("x5c", json!(["MIIBszCCAVmgAwIBAgIUQ"])),
        ("crit", json!(["exp"])),
    ];

    for (name, value) in cases {
        let header = with(attacker.header(), name, value);
        let token = attacker.sign(&header, &valid_claims(&server.issuer));

        let error = refusal(&server, &token).await;

        assert!(
            matches!(&error, VerifyError::ForbiddenHeader { header } if *header == name),
            "{name}: {error:?}"
        );
    }
}

#[tokio::test]
async fn refuses_a_token_whose_typ_is_not_at_jwt() {
    let server = JwksServer::start().await;
    let key = &keys().es256;
    let claims = valid_claims(&server.issuer);
    let mut missing = key.header();
    missing.as_object_mut().unwrap().remove("typ");

    for header in [
        with(key.header(), "typ", json!("JWT")),
        with(key.header(), "typ", json!("application/jwt")),
        missing,
    ] {
        let error = refusal(&server, &key.sign(&header, &claims)).await;

        assert!(
            matches!(error, VerifyError::WrongType { .. }),
            "{header}: {error:?}"
        );
    }
}

#[tokio::test]
async fn refuses_a_token_from_another_issuer() {
    let server = JwksServer::start().await;
    for issuer in [
        "https://evil.test".to_string(),
        format!("{}/", server.issuer),
    ] {
        let token = keys()
            .es256
            .token(&with(valid_claims(&server.issuer), "iss", json!(issuer)));

        let error = refusal(&server, &token).await;

        assert!(
            matches!(&error, VerifyError::WrongIssuer { found } if *found == issuer),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn refuses_a_token_for_another_audience() {
    let server = JwksServer::start().await;
    for aud in [
        json!("https://other.test"),
        json!(["https://other.test"]),
        json!([]),
    ] {
        let token = keys()
            .es256
            .token(&with(valid_claims(&server.issuer), "aud", aud.clone()));

        let error = refusal(&server, &token).await;

        assert!(
            matches!(error, VerifyError::WrongAudience),
            "{aud}: {error:?}"
        );
    }
}

#[tokio::test]
async fn refuses_a_token_expired_beyond_the_leeway() {
    let server = JwksServer::start().await;
    let exp = now() - 31;
    let token = keys()
        .es256
        .token(&with(valid_claims(&server.issuer), "exp", json!(exp)));

    let error = refusal(&server, &token).await;

    assert!(
        matches!(error, VerifyError::Expired { exp: found } if found == exp),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_zero_expiry_leeway_refuses_a_token_the_second_it_expires_yet_keeps_the_nbf_leeway() {
    let server = JwksServer::start().await;
    let verifier = Verifier::new(
        server
            .config()
            .with_expiry_leeway(std::time::Duration::ZERO)
            .with_not_before_leeway(std::time::Duration::from_secs(2)),
    )
    .unwrap();
    let expired = keys()
        .es256
        .token(&with(valid_claims(&server.issuer), "exp", json!(now() - 1)));
    let early = keys()
        .es256
        .token(&with(valid_claims(&server.issuer), "nbf", json!(now() + 1)));

    let expired = verifier.verify(&expired).await;
    let early = verifier.verify(&early).await;

    assert!(
        matches!(expired, Err(VerifyError::Expired { .. })),
        "{expired:?}"
    );
    assert!(
        early.is_ok(),
        "nbf one second ahead is within 2 s: {early:?}"
    );
}

#[tokio::test]
async fn refuses_a_token_whose_nbf_is_beyond_the_leeway() {
    let server = JwksServer::start().await;
    let nbf = now() + 120;
    let token = keys()
        .es256
        .token(&with(valid_claims(&server.issuer), "nbf", json!(nbf)));

    let error = refusal(&server, &token).await;

    assert!(
        matches!(error, VerifyError::NotYetValid { nbf: found } if found == nbf),
        "{error:?}"
    );
}

#[tokio::test]
async fn refuses_a_token_whose_payload_was_tampered_with() {
    let server = JwksServer::start().await;
    let token = keys().es256.token(&valid_claims(&server.issuer));
    let elevated = with(valid_claims(&server.issuer), "role", json!("admin"));
    let segments: Vec<&str> = token.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        segments[0],
        b64(elevated.to_string().as_bytes()),
        segments[2]
    );

    let error = refusal(&server, &tampered).await;

    assert!(matches!(error, VerifyError::BadSignature), "{error:?}");
}

#[tokio::test]
async fn refuses_malformed_tokens() {
    let server = JwksServer::start().await;
    let token = keys().es256.token(&valid_claims(&server.issuer));
    let segments: Vec<&str> = token.split('.').collect();
    let (header, payload, signature) = (segments[0], segments[1], segments[2]);
    let cases = [
        ("empty", String::new()),
        ("two segments", format!("{header}.{payload}")),
        ("four segments", format!("{token}.{signature}")),
        (
            "header not base64url",
            format!("{header}!.{payload}.{signature}"),
        ),
        (
            "payload padded base64",
            format!("{header}.{payload}==.{signature}"),
        ),
        (
            "header not JSON",
            format!("{}.{payload}.{signature}", b64(b"not json")),
        ),
        (
            "payload not JSON",
            format!("{header}.{}.{signature}", b64(b"{\"iss\":")),
        ),
        (
            "payload a JSON array",
            format!("{header}.{}.{signature}", b64(b"[1,2]")),
        ),
        (
            "header without kid",
            format!(
                "{}.{payload}.{signature}",
                b64(br#"{"alg":"ES256","typ":"at+jwt"}"#)
            ),
        ),
    ];

    for (case, token) in cases {
        let error = refusal(&server, &token).await;

        assert!(
            matches!(error, VerifyError::Malformed { .. }),
            "{case}: {error:?}"
        );
    }
}

#[tokio::test]
async fn refuses_a_token_missing_any_required_claim() {
    let server = JwksServer::start().await;
    let claims = valid_claims(&server.issuer);
    let names: Vec<String> = claims.as_object().unwrap().keys().cloned().collect();
    assert_eq!(names.len(), 12, "every claim of the contract is exercised");

    for name in names {
        let mut incomplete = claims.clone();
        incomplete.as_object_mut().unwrap().remove(&name);
        let token = keys().es256.token(&incomplete);

        let error = refusal(&server, &token).await;

        assert!(
            matches!(&error, VerifyError::MissingClaim { claim } if *claim == name),
            "{name}: {error:?}"
        );
    }
}

#[tokio::test]
async fn refuses_claims_of_the_wrong_type_or_outside_the_contract() {
    let server = JwksServer::start().await;
    let cases = [
        ("exp", json!("tomorrow")),
        ("iat", json!(1.5)),
        ("scope", json!(["control.read"])),
        ("role", json!("superuser")),
        ("principal_type", json!("robot")),
        ("sub", json!("usr_pretends_to_be_a_person")),
    ];

    for (name, value) in cases {
        let token = keys()
            .es256
            .token(&with(valid_claims(&server.issuer), name, value));

        let error = refusal(&server, &token).await;

        assert!(
            matches!(&error, VerifyError::InvalidClaim { claim } if *claim == name),
            "{name}: {error:?}"
        );
    }
}
