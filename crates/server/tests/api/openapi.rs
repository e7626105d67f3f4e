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
