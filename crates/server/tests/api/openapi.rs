//! The committed OpenAPI document matches the one generated from the code.

#[test]
fn committed_openapi_document_matches_the_code() {
    let generated = tollgate_server::openapi::json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, format!("{generated}\n")).expect("write docs/openapi.json");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "docs/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p tollgate-server --test api openapi` and commit it"
    );
}

#[test]
fn openapi_document_is_version_3_1_and_lists_the_management_api() {
    let doc: serde_json::Value = serde_json::from_str(&tollgate_server::openapi::json()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/sessions",
        "/api/v1/api-clients",
        "/api/v1/api-clients/{client_id}/secrets",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
}

/// Every route the router serves outside the management API, by verb. Kept by hand: the
/// router cannot list its routes, so adding one means adding it here and to the document.
const PUBLIC_ROUTES: &[(&str, &str)] = &[
    ("get", "/v1/programs"),
    ("post", "/v1/programs"),
    ("get", "/v1/programs/{id}"),
    ("patch", "/v1/programs/{id}"),
    ("delete", "/v1/programs/{id}"),
    ("get", "/v1/controls"),
    ("post", "/v1/controls"),
    ("get", "/v1/controls/{id}"),
    ("patch", "/v1/controls/{id}"),
    ("delete", "/v1/controls/{id}"),
    ("get", "/v1/risks"),
    ("post", "/v1/risks"),
    ("get", "/v1/risks/{id}"),
    ("patch", "/v1/risks/{id}"),
    ("delete", "/v1/risks/{id}"),
    ("get", "/v1/tasks"),
    ("post", "/v1/tasks"),
    ("get", "/v1/tasks/{id}"),
    ("patch", "/v1/tasks/{id}"),
    ("delete", "/v1/tasks/{id}"),
    ("get", "/v1/audits"),
    ("post", "/v1/audits"),
    ("get", "/v1/audits/{id}"),
    ("patch", "/v1/audits/{id}"),
    ("delete", "/v1/audits/{id}"),
    ("get", "/v1/users"),
    ("get", "/v1/users/{id}"),
    ("post", "/oauth/token"),
    ("post", "/oauth/introspect"),
    ("post", "/oauth/revoke"),
    ("get", "/.well-known/jwks.json"),
    ("get", "/.well-known/oauth-authorization-server"),
];

#[test]
fn openapi_document_lists_every_compliance_and_oauth_route_and_no_other() {
    // Arrange
    let doc: serde_json::Value = serde_json::from_str(&tollgate_server::openapi::json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let documented: std::collections::BTreeSet<(String, String)> = paths
        .iter()
        .filter(|(path, _)| {
            ["/v1/", "/oauth/", "/.well-known/"]
                .iter()
                .any(|prefix| path.starts_with(prefix))
        })
        .flat_map(|(path, item)| {
            ["get", "post", "put", "patch", "delete"]
                .into_iter()
                .filter(|method| item.get(method).is_some())
                .map(|method| (method.to_owned(), path.clone()))
        })
        .collect();
    let served: std::collections::BTreeSet<(String, String)> = PUBLIC_ROUTES
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();

    // Act
    let missing: Vec<_> = served.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&served).collect();

    // Assert
    assert!(missing.is_empty(), "served but not documented: {missing:?}");
    assert!(unknown.is_empty(), "documented but not served: {unknown:?}");
}

#[test]
fn compliance_operations_need_a_bearer_token_with_their_scope() {
    let doc: serde_json::Value = serde_json::from_str(&tollgate_server::openapi::json()).unwrap();
    let scheme = &doc["components"]["securitySchemes"]["bearer_access_token"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
    for (method, path, scope) in [
        ("get", "/v1/programs", "program.read"),
        ("post", "/v1/controls", "control.create"),
        ("patch", "/v1/tasks/{id}", "task.update"),
        ("delete", "/v1/audits/{id}", "audit.delete"),
        ("get", "/v1/users/{id}", "user.read"),
    ] {
        let operation = &doc["paths"][path][method];
        assert_eq!(
            operation["security"],
            serde_json::json!([{ "bearer_access_token": [scope] }]),
            "{method} {path}"
        );
        for status in ["401", "403"] {
            assert_eq!(
                operation["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path} {status}"
            );
        }
    }
}

#[test]
fn oauth_endpoints_take_forms_with_client_secret_basic_and_answer_rfc_6749_errors() {
    let doc: serde_json::Value = serde_json::from_str(&tollgate_server::openapi::json()).unwrap();
    assert_eq!(
        doc["components"]["securitySchemes"]["client_secret_basic"]["scheme"],
        "basic"
    );
    for path in ["/oauth/token", "/oauth/introspect", "/oauth/revoke"] {
        let operation = &doc["paths"][path]["post"];
        assert!(
            operation["requestBody"]["content"]
                .get("application/x-www-form-urlencoded")
                .is_some(),
            "{path}: form body"
        );
        assert_eq!(
            operation["security"],
            serde_json::json!([{ "client_secret_basic": [] }]),
            "{path}"
        );
        assert_eq!(
            operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/OAuthErrorBody",
            "{path}"
        );
    }
    let error = &doc["components"]["schemas"]["OAuthErrorBody"];
    assert_eq!(
        error["required"],
        serde_json::json!(["error", "error_description"])
    );
}

#[tokio::test]
async fn every_listed_public_route_is_served() {
    // Arrange: the list above must not name routes the router does not have (axum answers
    // those with an empty 404 or a 405 before any handler runs).
    let app = crate::helpers::spawn_app(crate::helpers::Engine::Sqlite).await;

    for (method, path) in PUBLIC_ROUTES {
        // Act
        let url = format!("{}{}", app.address, path.replace("{id}", "x"));
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = app.http.request(method.clone(), &url).send().await.unwrap();

        // Assert
        let status = response.status().as_u16();
        assert!(
            status != 404 && status != 405,
            "{method} {path}: {status}, not served"
        );
    }
}
