//! Signing in with email and password; sessions as bearer token or cookie with CSRF.

use crate::both_engines;
use crate::helpers::{spawn_app, spawn_app_with, Engine, TestApp, ADMIN_PASSWORD};
use serde_json::json;

/// Signs the Admin in through the API and returns `(Set-Cookie, cookie pair, csrf token)`.
async fn cookie_session(app: &TestApp) -> (String, String, String) {
    let response = app
        .http
        .post(format!("{}/api/v1/sessions", app.address))
        .json(&json!({"email": "admin@acme.test", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    let pair = set_cookie.split(';').next().unwrap().to_owned();
    (
        set_cookie,
        pair,
        body["csrf_token"].as_str().unwrap().to_owned(),
    )
}

async fn sign_in_returns_a_session_and_me_names_the_person(engine: Engine) {
    let app = spawn_app(engine).await;
    let me = app.get("/api/v1/me", &app.admin).await.expect(200);
    assert_eq!(me.body["email"], "admin@acme.test");
    assert_eq!(me.body["role"], "admin");
    assert_eq!(me.body["type"], "person");
}

async fn wrong_password_and_unknown_email_get_the_same_answer(engine: Engine) {
    let app = spawn_app(engine).await;
    let wrong = app
        .post(
            "/api/v1/sessions",
            "",
            json!({"email": "admin@acme.test", "password": "not the password"}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    let unknown = app
        .post(
            "/api/v1/sessions",
            "",
            json!({"email": "nobody@acme.test", "password": ADMIN_PASSWORD}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    assert_eq!(wrong.text, unknown.text);
}

async fn requests_without_a_session_are_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    app.get("/api/v1/me", "")
        .await
        .expect_error(401, "unauthenticated");
    app.get("/api/v1/me", "tgst_forged")
        .await
        .expect_error(401, "unauthenticated");
}

async fn cookie_sessions_need_the_csrf_token_for_changes(engine: Engine) {
    let app = spawn_app(engine).await;
    let response = app
        .http
        .post(format!("{}/api/v1/sessions", app.address))
        .json(&json!({"email": "admin@acme.test", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap();
    let pair = cookie.split(';').next().unwrap().to_owned();

    let read = app
        .http
        .get(format!("{}/api/v1/me", app.address))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);

    let without = app
        .http
        .patch(format!("{}/api/v1/org", app.address))
        .header("cookie", &pair)
        .json(&json!({"m2m_enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), 403);
    let org = app.get("/api/v1/org", &app.admin).await.expect(200);
    assert_eq!(
        org.body["m2m_enabled"], false,
        "a refused change must not be applied"
    );

    let with = app
        .http
        .patch(format!("{}/api/v1/org", app.address))
        .header("cookie", &pair)
        .header("x-csrf-token", csrf)
        .json(&json!({"m2m_enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), 200);
}

async fn a_wrong_csrf_token_is_refused_with_csrf_token_invalid(engine: Engine) {
    let app = spawn_app(engine).await;
    let (_, pair, csrf) = cookie_session(&app).await;
    let mut wrong = csrf.clone();
    wrong.replace_range(..1, if csrf.starts_with('A') { "B" } else { "A" });

    for token in [
        wrong.as_str(),
        "",
        &csrf[..csrf.len() - 1],
        &format!("{csrf}x"),
    ] {
        let reply = crate::helpers::read(
            app.http
                .patch(format!("{}/api/v1/org", app.address))
                .header("cookie", &pair)
                .header("x-csrf-token", token)
                .json(&json!({"m2m_enabled": true}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        reply.expect_error(403, "csrf_token_invalid");
    }

    let org = app.get("/api/v1/org", &app.admin).await.expect(200);
    assert_eq!(
        org.body["m2m_enabled"], false,
        "no refused change was applied"
    );
}

async fn the_session_cookie_is_secure_exactly_when_the_public_url_is_https(engine: Engine) {
    let https = spawn_app_with(engine, |c| {
        c.public_url = Some("https://tollgate.example".into())
    })
    .await;
    let http = spawn_app(engine).await;

    let (over_https, _, _) = cookie_session(&https).await;
    let (over_http, _, _) = cookie_session(&http).await;

    let flags = |cookie: &str| -> Vec<String> {
        cookie
            .split(';')
            .skip(1)
            .map(|f| f.trim().to_owned())
            .collect()
    };
    assert!(
        flags(&over_https).contains(&"Secure".to_owned()),
        "{over_https}"
    );
    assert!(
        !flags(&over_http)
            .iter()
            .any(|f| f.eq_ignore_ascii_case("secure")),
        "{over_http}"
    );
    for cookie in [&over_https, &over_http] {
        assert!(flags(cookie).contains(&"HttpOnly".to_owned()), "{cookie}");
        assert!(
            flags(cookie).contains(&"SameSite=Strict".to_owned()),
            "{cookie}"
        );
    }
}

async fn signing_out_ends_the_session(engine: Engine) {
    let app = spawn_app(engine).await;
    app.delete("/api/v1/sessions/current", &app.admin)
        .await
        .expect(204);
    app.get("/api/v1/me", &app.admin)
        .await
        .expect_error(401, "unauthenticated");
}

both_engines!(
    sign_in_returns_a_session_and_me_names_the_person,
    wrong_password_and_unknown_email_get_the_same_answer,
    requests_without_a_session_are_refused,
    cookie_sessions_need_the_csrf_token_for_changes,
    signing_out_ends_the_session,
    a_wrong_csrf_token_is_refused_with_csrf_token_invalid,
    the_session_cookie_is_secure_exactly_when_the_public_url_is_https,
);
