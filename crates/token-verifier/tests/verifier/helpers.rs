//! Test keys, token signing and a JWKS server on 127.0.0.1, shared by every test module.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};
use tollgate_token_verifier::{Jwks, Verifier, VerifierConfig};

pub const AUDIENCE: &str = "https://api.example.test";

/// A real private key, its `kid`, and its public half as a JWK.
pub struct TestKey {
    pub kid: String,
    pub alg: Algorithm,
    encoding: EncodingKey,
    /// The raw public key bytes (EC point, Ed25519 key or RSA modulus).
    pub public_bytes: Vec<u8>,
    pub jwk: Value,
}

impl TestKey {
    pub fn es256(kid: &str) -> TestKey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let point = pair.public_key().as_ref().to_vec();
        let jwk = json!({
            "kid": kid, "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        TestKey {
            kid: kid.into(),
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            public_bytes: point,
            jwk,
        }
    }

    pub fn ed25519(kid: &str) -> TestKey {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let public = pair.public_key().as_ref().to_vec();
        let jwk = json!({
            "kid": kid, "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&public),
        });
        TestKey {
            kid: kid.into(),
            alg: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
            public_bytes: public,
            jwk,
        }
    }

    pub fn rs256(kid: &str) -> TestKey {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let der = private.to_pkcs1_der().unwrap();
        let modulus = private.n().to_bytes_be();
        let jwk = json!({
            "kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(&modulus),
            "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        });
        TestKey {
            kid: kid.into(),
            alg: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            public_bytes: modulus,
            jwk,
        }
    }

    /// The JOSE name of this key's algorithm.
    pub fn alg_name(&self) -> &'static str {
        match self.alg {
            Algorithm::ES256 => "ES256",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::RS256 => "RS256",
            _ => unreachable!("test keys are ES256, EdDSA or RS256"),
        }
    }

    /// The header Tollgate puts on tokens signed with this key.
    pub fn header(&self) -> Value {
        json!({ "alg": self.alg_name(), "typ": "at+jwt", "kid": self.kid })
    }

    /// A compact JWS of exactly this header and payload, signed with this key.
    pub fn sign(&self, header: &Value, payload: &Value) -> String {
        let signing_input = signing_input(header, payload);
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.encoding, self.alg).unwrap();
        format!("{signing_input}.{signature}")
    }

    /// A well-formed token with this key's header and the given claims.
    pub fn token(&self, payload: &Value) -> String {
        self.sign(&self.header(), payload)
    }
}

/// The three keys every test uses; RSA generation is slow, so they are made once per binary.
pub struct Keys {
    pub es256: TestKey,
    pub eddsa: TestKey,
    pub rs256: TestKey,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        es256: TestKey::es256("es-2026-01"),
        eddsa: TestKey::ed25519("ed-2026-01"),
        rs256: TestKey::rs256("rs-2026-01"),
    })
}

/// `base64url(header) . base64url(payload)` (RFC 7515 §5.1).
pub fn signing_input(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    )
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Claims of a valid token from `issuer` for [`AUDIENCE`], as Tollgate issues them.
pub fn valid_claims(issuer: &str) -> Value {
    let now = now();
    json!({
        "iss": issuer,
        "sub": "sp_01J9ZK4W3M",
        "aud": AUDIENCE,
        "exp": now + 600,
        "iat": now,
        "nbf": now,
        "jti": "at_7f3c2a",
        "client_id": "tg_client_8d2f",
        "scope": "control.read risk.read",
        "org": "org_acme",
        "role": "api_admin",
        "principal_type": "service_principal",
    })
}

/// Sets one claim of a JSON object.
pub fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

/// An HTTP server on 127.0.0.1 serving a JWK Set at `/.well-known/jwks.json`, counting requests.
pub struct JwksServer {
    /// `http://127.0.0.1:<port>`; also the issuer, so the default JWKS URI points here.
    pub issuer: String,
    hits: Arc<AtomicUsize>,
    document: Arc<Mutex<Value>>,
    failing: Arc<AtomicBool>,
}

#[derive(Clone)]
struct ServerState {
    hits: Arc<AtomicUsize>,
    document: Arc<Mutex<Value>>,
    failing: Arc<AtomicBool>,
}

impl JwksServer {
    /// Serves the three standard test keys.
    pub async fn start() -> JwksServer {
        let keys = keys();
        JwksServer::serving(jwk_set([&keys.es256, &keys.eddsa, &keys.rs256])).await
    }

    pub async fn serving(document: Value) -> JwksServer {
        let state = ServerState {
            hits: Arc::new(AtomicUsize::new(0)),
            document: Arc::new(Mutex::new(document)),
            failing: Arc::new(AtomicBool::new(false)),
        };
        let app = Router::new()
            .route("/.well-known/jwks.json", get(serve_jwks))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        JwksServer {
            issuer,
            hits: state.hits,
            document: state.document,
            failing: state.failing,
        }
    }

    /// How many JWKS requests the server has answered.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Replaces the published JWK Set (key rotation).
    pub fn publish(&self, document: Value) {
        *self.document.lock().unwrap() = document;
    }

    /// Makes the endpoint answer 500 from now on.
    pub fn fail(&self) {
        self.failing.store(true, Ordering::SeqCst);
    }

    pub fn config(&self) -> VerifierConfig {
        VerifierConfig::new(self.issuer.clone(), AUDIENCE)
    }

    /// A network verifier for this server with the default configuration.
    pub fn verifier(&self) -> Verifier {
        Verifier::new(self.config()).unwrap()
    }
}

async fn serve_jwks(State(state): State<ServerState>) -> Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    if state.failing.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let document = state.document.lock().unwrap().clone();
    Json(document).into_response()
}

pub fn jwk_set<'a>(keys: impl IntoIterator<Item = &'a TestKey>) -> Value {
    json!({ "keys": keys.into_iter().map(|key| key.jwk.clone()).collect::<Vec<_>>() })
}

/// The standard keys as a parsed [`Jwks`], for verifiers that never fetch.
pub fn static_jwks() -> Jwks {
    let keys = keys();
    Jwks::from_json(
        jwk_set([&keys.es256, &keys.eddsa, &keys.rs256])
            .to_string()
            .as_bytes(),
    )
    .unwrap()
}
