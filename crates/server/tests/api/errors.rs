//! Errors: one JSON shape with a stable code; bad input is 400/413/415/422 and never a 5xx;
//! another organization's objects answer exactly like missing ones.

use crate::both_engines;
use crate::helpers::{spawn_app, Engine, Reply, TestApp};
use crate::mgmt_helpers::{raw, second_org, unique};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use reqwest::Method;
use serde_json::{json, Value};

#[track_caller]
fn assert_error_shape(reply: &Reply) {
    let error = reply.body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("not the error shape: {} {}", reply.status, reply.text));
    assert!(error["code"].as_str().is_some_and(|c| !c.is_empty()));
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(
        reply.body.as_object().unwrap().len(),
        1,
        "only `error`: {}",
        reply.text
    );
    assert!(
        reply.status.as_u16() < 500,
        "bad input must never be a 5xx: {}",
        reply.text
    );
}

/// Every JSON-taking endpoint, with a path to send to.
async fn json_endpoints(app: &TestApp) -> Vec<(Method, String)> {
    app.enable_m2m().await;
    let (sa, _, _) = app
        .create_service_account("Target", "user", &["audit.read"])
        .await;
    let (person, _) = app.add_person("user").await;
    vec![
        (Method::POST, "/api/v1/sessions".into()),
        (Method::PATCH, "/api/v1/org".into()),
        (Method::POST, "/api/v1/people".into()),
        (Method::PATCH, format!("/api/v1/people/{person}")),
        (Method::POST, "/api/v1/api-clients/drafts".into()),
        (Method::POST, "/api/v1/api-clients".into()),
        (Method::PATCH, format!("/api/v1/api-clients/{sa}")),
        (Method::POST, format!("/api/v1/api-clients/{sa}/secrets")),
    ]
}

async fn malformed_json_is_a_400_with_the_error_shape(engine: Engine) {
    let app = spawn_app(engine).await;
    for (method, path) in json_endpoints(&app).await {
        for body in [&b"{"[..], b"{\"a\":}", b"nul", b"\xff\xfe", b"[1,2"] {
            let reply = raw(
                &app,
                method.clone(),
                &path,
                &app.admin,
                Some("application/json"),
                body.to_vec(),
            )
            .await;
            assert_eq!(reply.status, 400, "{method} {path}: {}", reply.text);
            assert_eq!(reply.code(), "invalid_request");
            assert_error_shape(&reply);
        }
    }
}

async fn a_body_without_a_json_content_type_is_a_415(engine: Engine) {
    let app = spawn_app(engine).await;
    for (method, path) in json_endpoints(&app).await {
        for ct in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let reply = raw(&app, method.clone(), &path, &app.admin, ct, b"{}".to_vec()).await;
            assert_eq!(reply.status, 415, "{method} {path} {ct:?}: {}", reply.text);
            assert_eq!(reply.code(), "unsupported_media_type");
            assert_error_shape(&reply);
        }
    }
}

async fn a_json_content_type_with_parameters_is_accepted(engine: Engine) {
    let app = spawn_app(engine).await;

    let reply = raw(
        &app,
        Method::PATCH,
        "/api/v1/org",
        &app.admin,
        Some("application/json; charset=utf-8"),
        br#"{"m2m_enabled": true}"#.to_vec(),
    )
    .await;

    assert_eq!(reply.status, 200, "{}", reply.text);
}

async fn a_body_over_64_kib_is_a_413(engine: Engine) {
    let app = spawn_app(engine).await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(65 * 1024)).into_bytes();
    for (method, path) in json_endpoints(&app).await {
        let reply = raw(
            &app,
            method.clone(),
            &path,
            &app.admin,
            Some("application/json"),
            big.clone(),
        )
        .await;
        assert_eq!(reply.status, 413, "{method} {path}: {}", reply.text);
        assert_eq!(reply.code(), "payload_too_large");
        assert_error_shape(&reply);
    }
    // Just under the limit is read (and then refused for its content, not its size).
    let under = format!(
        "{{\"type\": \"personal\", \"pad\": \"{}\"}}",
        "x".repeat(60 * 1024)
    );
    let reply = raw(
        &app,
        Method::POST,
        "/api/v1/api-clients/drafts",
        &app.admin,
        Some("application/json"),
        under.into_bytes(),
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
}

async fn unknown_fields_are_a_400(engine: Engine) {
    let app = spawn_app(engine).await;
    for (method, path) in json_endpoints(&app).await {
        let reply = raw(
            &app,
            method.clone(),
            &path,
            &app.admin,
            Some("application/json"),
            br#"{"surprise": 1}"#.to_vec(),
        )
        .await;
        assert_eq!(reply.status, 400, "{method} {path}: {}", reply.text);
        assert_eq!(reply.code(), "invalid_request");
        assert_error_shape(&reply);
    }
}

async fn wrong_types_and_odd_values_are_refused_without_a_5xx(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let draft = app.open_draft(&app.admin, "personal").await;
    let bodies = [
        ("/api/v1/org", Method::PATCH, json!({"m2m_enabled": "yes"})),
        (
            "/api/v1/org",
            Method::PATCH,
            json!({"secret_max_lifetime_days": 1e300}),
        ),
        (
            "/api/v1/org",
            Method::PATCH,
            json!({"secret_max_lifetime_days": i64::MAX}),
        ),
        ("/api/v1/org", Method::PATCH, json!([1, 2])),
        (
            "/api/v1/people",
            Method::POST,
            json!({"email": 5, "name": "x", "role": "user"}),
        ),
        (
            "/api/v1/people",
            Method::POST,
            json!({"email": "a@b.test", "name": "x", "role": "king"}),
        ),
        (
            "/api/v1/api-clients",
            Method::POST,
            json!({"client_id": draft, "type": "personal", "name": "x", "scopes": "audit.read"}),
        ),
        (
            "/api/v1/api-clients",
            Method::POST,
            json!({"client_id": draft, "type": "personal", "name": "x", "scopes": [1]}),
        ),
        (
            "/api/v1/api-clients",
            Method::POST,
            json!({"client_id": draft, "type": "personal", "name": "x", "scopes": ["audit.read"], "secret_expires_at": "tomorrow"}),
        ),
        (
            "/api/v1/api-clients",
            Method::POST,
            json!({"client_id": draft, "type": "personal", "name": "x", "scopes": ["audit.read"], "secret_expires_at": "+275760-09-13T00:00:00Z"}),
        ),
        (
            "/api/v1/api-clients",
            Method::POST,
            json!({"client_id": draft, "type": "personal", "name": "\u{0}", "scopes": ["audit.read"]}),
        ),
        ("/api/v1/api-clients", Method::POST, json!(null)),
        (
            "/api/v1/api-clients/drafts",
            Method::POST,
            json!({"type": null}),
        ),
        (
            "/api/v1/sessions",
            Method::POST,
            json!({"email": "x".repeat(10_000), "password": "y"}),
        ),
    ];

    for (path, method, body) in bodies {
        let reply = app
            .call(method.clone(), path, &app.admin, Some(body.clone()))
            .await;
        assert!(
            matches!(reply.status.as_u16(), 400 | 401 | 409 | 422),
            "{method} {path} {body}: {} {}",
            reply.status,
            reply.text
        );
        assert_error_shape(&reply);
    }
    // The draft survived every refusal.
    app.post(
        "/api/v1/api-clients",
        &app.admin,
        json!({"client_id": draft, "type": "personal", "name": "Survivor", "scopes": ["audit.read"]}),
    )
    .await
    .expect(201);
}

async fn odd_paths_and_queries_are_answered_in_the_error_shape(engine: Engine) {
    let app = spawn_app(engine).await;
    let long = "a".repeat(5000);
    let cases = [
        (Method::GET, "/api/v1/nowhere".to_owned(), 404),
        (Method::PUT, "/api/v1/org".to_owned(), 405),
        (Method::GET, format!("/api/v1/api-clients/{long}"), 404),
        (Method::GET, "/api/v1/api-clients/%00%ff".to_owned(), 400),
        (
            Method::DELETE,
            "/api/v1/api-clients/drafts/..%2F..".to_owned(),
            404,
        ),
        (
            Method::GET,
            "/api/v1/api-clients?type=robot".to_owned(),
            422,
        ),
        (
            Method::GET,
            "/api/v1/audit-events?limit=abc".to_owned(),
            400,
        ),
        (
            Method::GET,
            "/api/v1/audit-events?limit=99999999999999999999".to_owned(),
            400,
        ),
        (Method::GET, "/api/v1/scopes?role=".to_owned(), 422),
    ];

    for (method, path, status) in cases {
        let reply = app.call(method.clone(), &path, &app.admin, None).await;
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.text);
        assert_error_shape(&reply);
    }
}

async fn another_orgs_objects_are_404_byte_identical_to_missing_ones(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (_, globex) = second_org(&app).await;
    app.patch("/api/v1/org", &globex, json!({"m2m_enabled": true}))
        .await
        .expect(200);
    let sa = app
        .try_create_client(
            &globex,
            "service_account",
            json!({"name": "Theirs", "role": "user", "scopes": ["audit.read"]}),
        )
        .await
        .expect(201);
    let sa_id = sa.body["client"]["client_id"].as_str().unwrap().to_owned();
    let sa_secret = sa.body["secret"]["id"].as_str().unwrap().to_owned();
    let personal = app
        .try_create_client(
            &globex,
            "personal",
            json!({"name": "Theirs", "scopes": ["audit.read"]}),
        )
        .await
        .expect(201);
    let personal_id = personal.body["client"]["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let draft = app.open_draft(&globex, "personal").await;
    let their_admin = app.get("/api/v1/me", &globex).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let missing_client = "M".repeat(32);
    let missing_secret = "sec_missing";

    let pairs: Vec<(Method, String, String, Option<serde_json::Value>)> = vec![
        (
            Method::GET,
            format!("/api/v1/api-clients/{sa_id}"),
            format!("/api/v1/api-clients/{missing_client}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/api-clients/{personal_id}"),
            format!("/api/v1/api-clients/{missing_client}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/api-clients/{sa_id}"),
            format!("/api/v1/api-clients/{missing_client}"),
            Some(json!({"name": "Mine"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/api-clients/{sa_id}"),
            format!("/api/v1/api-clients/{missing_client}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/api-clients/{sa_id}/secrets"),
            format!("/api/v1/api-clients/{missing_client}/secrets"),
            Some(json!({})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/api-clients/{sa_id}/secrets/{sa_secret}"),
            format!("/api/v1/api-clients/{missing_client}/secrets/{missing_secret}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/api-clients/drafts/{draft}"),
            format!("/api/v1/api-clients/drafts/{missing_client}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/governance/personal-clients/{personal_id}"),
            format!("/api/v1/governance/personal-clients/{missing_client}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/people/{their_admin}"),
            "/api/v1/people/usr_missing".to_owned(),
            Some(json!({"role": "user"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/people/{their_admin}"),
            "/api/v1/people/usr_missing".to_owned(),
            Some(json!({"active": false})),
        ),
    ];

    for (method, theirs, missing, body) in pairs {
        let a = app
            .call(method.clone(), &theirs, &app.admin, body.clone())
            .await;
        let b = app.call(method.clone(), &missing, &app.admin, body).await;
        assert_eq!(a.status, 404, "{method} {theirs}: {}", a.text);
        assert_eq!(a.text, b.text, "{method} {theirs}");
        assert_eq!(a.headers.get("content-type"), b.headers.get("content-type"));
    }
    // Saving their draft is refused like a missing draft.
    let a = app
        .post("/api/v1/api-clients", &app.admin, json!({"client_id": draft, "type": "personal", "name": "Stolen", "scopes": ["audit.read"]}))
        .await;
    let b = app
        .post("/api/v1/api-clients", &app.admin, json!({"client_id": missing_client, "type": "personal", "name": "Stolen", "scopes": ["audit.read"]}))
        .await;
    assert_eq!((a.status.as_u16(), &a.text), (404, &b.text));

    // Nothing of theirs changed.
    let theirs = app
        .get(&format!("/api/v1/api-clients/{sa_id}"), &globex)
        .await
        .expect(200);
    assert_eq!(theirs.body["name"], "Theirs");
    assert_eq!(theirs.body["secrets"].as_array().unwrap().len(), 1);
    let me = app.get("/api/v1/me", &globex).await.expect(200);
    assert_eq!(me.body["role"], "admin");
    app.post(
        "/api/v1/api-clients",
        &globex,
        json!({"client_id": draft, "type": "personal", "name": "Kept", "scopes": ["audit.read"]}),
    )
    .await
    .expect(201);
    // Lists never mix organizations.
    let ours = app.get("/api/v1/api-clients", &app.admin).await.expect(200);
    assert!(!ours.text.contains(&sa_id));
    let people = app.get("/api/v1/people", &app.admin).await.expect(200);
    assert!(!people.text.contains(&their_admin));
    let governance = app
        .get("/api/v1/governance/personal-clients", &app.admin)
        .await
        .expect(200);
    assert!(!governance.text.contains(&personal_id));
}

async fn internal_details_never_reach_a_client(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;

    let replies = [
        app.post(
            "/api/v1/api-clients",
            &app.admin,
            json!({"client_id": "x", "type": "personal", "name": "x", "scopes": ["audit.read"]}),
        )
        .await,
        app.patch("/api/v1/people/usr_x", &app.admin, json!({"role": "user"}))
            .await,
        app.get("/api/v1/audit-events?cursor=%%%", &app.admin).await,
    ];

    for reply in replies {
        let lower = reply.text.to_lowercase();
        for leak in ["sqlx", "sqlite", "postgres", "database", "panicked", "src/"] {
            assert!(!lower.contains(leak), "{leak} in {}", reply.text);
        }
    }
}

/// Control characters, starting with the one PostgreSQL text cannot hold at all (U+0000).
const CONTROL: [&str; 6] = ["\u{0}", "\u{1}", "\u{1b}", "\u{7f}", "\u{85}", "\u{9b}"];
/// Odd but storable text: a noncharacter, a bidi override, a byte-order mark, a zero-width
/// space, a character outside the BMP.
const ODD: [&str; 5] = ["\u{ffff}", "\u{202e}", "\u{feff}", "\u{200b}", "\u{1f4a9}"];

/// What a case must answer: a status and, for errors, the exact code.
type Expect = (u16, Option<&'static str>);

#[track_caller]
fn check(reply: &Reply, expect: Expect, what: &str) {
    assert_eq!(
        (reply.status.as_u16(), reply.body["error"]["code"].as_str()),
        expect,
        "{what}: {}",
        reply.text
    );
    if reply.status.as_u16() >= 400 {
        assert_error_shape(reply);
    }
}

async fn odd_text_in_every_path_id_is_a_404_like_a_missing_object(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (sa, _, body) = app
        .create_service_account("Target", "user", &["audit.read"])
        .await;
    let secret = body["secret"]["id"].as_str().unwrap().to_owned();
    let routes: [(Method, &str, Option<Value>); 9] = [
        (Method::GET, "/api/v1/api-clients/{x}", None),
        (
            Method::PATCH,
            "/api/v1/api-clients/{x}",
            Some(json!({"description": "d"})),
        ),
        (Method::DELETE, "/api/v1/api-clients/{x}", None),
        (
            Method::POST,
            "/api/v1/api-clients/{x}/secrets",
            Some(json!({})),
        ),
        (
            Method::DELETE,
            "/api/v1/api-clients/{x}/secrets/{secret}",
            None,
        ),
        (Method::DELETE, "/api/v1/api-clients/{sa}/secrets/{x}", None),
        (Method::DELETE, "/api/v1/api-clients/drafts/{x}", None),
        (
            Method::PATCH,
            "/api/v1/people/{x}",
            Some(json!({"role": "user"})),
        ),
        (
            Method::DELETE,
            "/api/v1/governance/personal-clients/{x}",
            None,
        ),
    ];
    let mut ids = Vec::new();
    for c in CONTROL.iter().chain(&ODD) {
        ids.push(c.to_string());
        ids.push(format!("{}{c}", "M".repeat(31)));
        ids.push(format!("{}{c}", "M".repeat(32)));
        ids.push(format!("usr_{}{c}", "a".repeat(21)));
        ids.push(format!("sec_{}{c}", "a".repeat(21)));
    }

    for (method, template, body) in &routes {
        for id in &ids {
            let encoded = utf8_percent_encode(id, NON_ALPHANUMERIC).to_string();
            let path = template
                .replace("{x}", &encoded)
                .replace("{sa}", &sa)
                .replace("{secret}", &secret);
            let reply = app
                .call(method.clone(), &path, &app.admin, body.clone())
                .await;
            check(
                &reply,
                (404, Some("not_found")),
                &format!("{method} {path}"),
            );
        }
    }
    // The target survived every request.
    let client = app
        .get(&format!("/api/v1/api-clients/{sa}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(client.body["secrets"][0]["id"], secret.as_str());
}

async fn odd_text_in_every_body_and_query_field_gets_its_exact_error(engine: Engine) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let (sa, _, _) = app
        .create_service_account("Target", "user", &["audit.read"])
        .await;
    let (person, _) = app.add_person("user").await;
    let invalid = |code| (400, Some(code));
    let refused = |code| (422, Some(code));

    for (odd, control) in CONTROL
        .iter()
        .map(|c| (*c, true))
        .chain(ODD.iter().map(|c| (*c, false)))
    {
        let n = unique();
        let text = format!("a{odd}b {n}");
        let free_text = |code| if control { refused(code) } else { (201, None) };
        let draft = app.open_draft(&app.admin, "service_account").await;
        let save = |fields: Value| {
            let mut body = json!({"client_id": draft, "type": "service_account", "name": format!("SA {n}"), "role": "user", "scopes": ["audit.read"]});
            for (k, v) in fields.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        let mut cases: Vec<(Method, String, Value, Expect)> = vec![
            (
                Method::POST,
                "/api/v1/sessions".into(),
                json!({"email": text, "password": "x"}),
                (401, Some("invalid_credentials")),
            ),
            (
                Method::POST,
                "/api/v1/sessions".into(),
                json!({"email": format!("admin{odd}@acme.test"), "password": "x"}),
                (401, Some("invalid_credentials")),
            ),
            (
                Method::POST,
                "/api/v1/sessions".into(),
                json!({"email": "admin@acme.test", "password": text}),
                (401, Some("invalid_credentials")),
            ),
            (
                Method::POST,
                "/api/v1/people".into(),
                json!({"email": format!("a{odd}b.{n}@acme.test"), "name": "P", "role": "user"}),
                free_text("invalid_email"),
            ),
            (
                Method::POST,
                "/api/v1/people".into(),
                json!({"email": format!("p.{n}@acme.test"), "name": text, "role": "user"}),
                free_text("invalid_name"),
            ),
            (
                Method::POST,
                "/api/v1/people".into(),
                json!({"email": format!("q.{n}@acme.test"), "name": "Q", "role": odd}),
                invalid("invalid_request"),
            ),
            (
                Method::POST,
                "/api/v1/people".into(),
                json!({"email": format!("r.{n}@acme.test"), "name": "R", "role": "user", "password": odd.repeat(12)}),
                (201, None),
            ),
            (
                Method::PATCH,
                format!("/api/v1/people/{person}"),
                json!({"role": odd}),
                invalid("invalid_request"),
            ),
            (
                Method::PATCH,
                "/api/v1/org".into(),
                json!({"m2m_enabled": odd}),
                invalid("invalid_request"),
            ),
            (
                Method::POST,
                "/api/v1/api-clients/drafts".into(),
                json!({"type": odd}),
                invalid("invalid_request"),
            ),
            (
                Method::POST,
                "/api/v1/api-clients".into(),
                save(json!({"client_id": text})),
                refused("invalid_client_id"),
            ),
            (
                Method::POST,
                "/api/v1/api-clients".into(),
                save(json!({"client_id": format!("{}{odd}", &draft[..31])})),
                refused("invalid_client_id"),
            ),
            (
                Method::POST,
                "/api/v1/api-clients".into(),
                save(json!({"type": odd})),
                invalid("invalid_request"),
            ),
            (
                Method::POST,
                "/api/v1/api-clients".into(),
                save(json!({"role": odd})),
                invalid("invalid_request"),
            ),
            (
                Method::POST,
                "/api/v1/api-clients".into(),
                save(json!({"scopes": [odd]})),
                refused("unknown_scope"),
            ),
            (
                Method::POST,
                "/api/v1/api-clients".into(),
                save(json!({"scopes": [format!("audit.read{odd}")]})),
                refused("unknown_scope"),
            ),
            (
                Method::POST,
                "/api/v1/api-clients".into(),
                save(json!({"secret_expires_at": odd})),
                invalid("invalid_request"),
            ),
            (
                Method::PATCH,
                format!("/api/v1/api-clients/{sa}"),
                json!({"name": text}),
                if control {
                    refused("invalid_name")
                } else {
                    (200, None)
                },
            ),
            (
                Method::PATCH,
                format!("/api/v1/api-clients/{sa}"),
                json!({"description": text}),
                if control {
                    refused("invalid_description")
                } else {
                    (200, None)
                },
            ),
            (
                Method::PATCH,
                format!("/api/v1/api-clients/{sa}"),
                json!({"scopes": [odd]}),
                refused("unknown_scope"),
            ),
            (
                Method::PATCH,
                format!("/api/v1/api-clients/{sa}"),
                json!({"role": odd}),
                invalid("invalid_request"),
            ),
            (
                Method::POST,
                format!("/api/v1/api-clients/{sa}/secrets"),
                json!({"expires_at": text}),
                invalid("invalid_request"),
            ),
        ];
        if control {
            cases.push((
                Method::POST,
                "/api/v1/api-clients".into(),
                save(json!({"description": text})),
                refused("invalid_description"),
            ));
        }
        // The draft is saved once, last, when every field is fine: its name holds the text.
        cases.push((
            Method::POST,
            "/api/v1/api-clients".into(),
            save(json!({"name": format!("{text} saved"), "description": text})),
            if control {
                refused("invalid_name")
            } else {
                (201, None)
            },
        ));

        for (method, path, body, expect) in cases {
            let reply = app
                .call(method.clone(), &path, &app.admin, Some(body.clone()))
                .await;
            check(&reply, expect, &format!("{method} {path} {body}"));
        }
        let queries = [
            ("/api/v1/api-clients?type=", refused("invalid_type")),
            ("/api/v1/scopes?role=", refused("invalid_role")),
            ("/api/v1/audit-events?cursor=", invalid("invalid_request")),
        ];
        for (prefix, expect) in queries {
            let path = format!("{prefix}{}", utf8_percent_encode(odd, NON_ALPHANUMERIC));
            let reply = app.get(&path, &app.admin).await;
            check(&reply, expect, &path);
        }
    }
}

async fn text_the_database_cannot_store_is_told_apart_from_a_failure(engine: Engine) {
    // The safety net under the handlers' checks: PostgreSQL refuses U+0000 in text
    // (SQLSTATE 22021) and the store says so with its own variant; SQLite stores it.
    let app = spawn_app(engine).await;

    let read = app.store.find_person_by_email("admin\u{0}@acme.test").await;

    match engine {
        Engine::Postgres => assert!(
            matches!(read, Err(tollgate_store::StoreError::UnstorableText(_))),
            "{read:?}"
        ),
        Engine::Sqlite => assert!(matches!(read, Ok(None)), "{read:?}"),
    }
}

both_engines!(
    odd_text_in_every_path_id_is_a_404_like_a_missing_object,
    odd_text_in_every_body_and_query_field_gets_its_exact_error,
    text_the_database_cannot_store_is_told_apart_from_a_failure,
    malformed_json_is_a_400_with_the_error_shape,
    a_body_without_a_json_content_type_is_a_415,
    a_json_content_type_with_parameters_is_accepted,
    a_body_over_64_kib_is_a_413,
    unknown_fields_are_a_400,
    wrong_types_and_odd_values_are_refused_without_a_5xx,
    odd_paths_and_queries_are_answered_in_the_error_shape,
    another_orgs_objects_are_404_byte_identical_to_missing_ones,
    internal_details_never_reach_a_client,
);
