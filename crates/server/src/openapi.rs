//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::error::{ErrorBody, ErrorDetail};
use crate::management::{audit, clients, governance, org, people, scopes, sessions};
use utoipa::OpenApi;

/// The management API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tollgate",
        description = "Machine-to-machine API authentication: organizations, people, API clients, secrets.",
        license(name = "Apache-2.0")
    ),
    paths(
        sessions::sign_in, sessions::sign_out, sessions::me,
        org::get_org, org::update_org,
        people::list, people::create, people::update,
        scopes::catalogue,
        clients::open_draft, clients::cancel_draft, clients::create, clients::list, clients::get,
        clients::update, clients::remove, clients::add_secret, clients::revoke_secret,
        governance::list, governance::revoke,
        audit::list,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&SecuritySchemes),
    security(("session_token" = []), ("session_cookie" = [])),
    tags(
        (name = "sessions", description = "Signing in and out"),
        (name = "organization", description = "The organization and its M2M switch"),
        (name = "people", description = "People and their roles"),
        (name = "api-clients", description = "Service-account and personal API clients and their secrets"),
        (name = "governance", description = "Admins' view of personal clients"),
        (name = "audit", description = "The append-only audit log"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// The document as pretty JSON (what `tollgate openapi` prints and the repository commits).
pub fn json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
}
