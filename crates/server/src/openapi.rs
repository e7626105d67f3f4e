//! The OpenAPI 3.1 document, generated from the handlers' annotations: the management API
//! (`/api/v1`, session auth), the compliance resource API (`/v1`, Bearer access tokens) and
//! the OAuth endpoints (`/oauth`, `/.well-known`, client credentials).

use crate::compliance::objects::paths as objects;
use crate::compliance::users;
use crate::error::{ErrorBody, ErrorDetail};
use crate::management::{audit, clients, governance, org, people, scopes, sessions};
use crate::oauth::error::OAuthErrorBody;
use crate::oauth::{introspect, metadata, token};
use utoipa::OpenApi;

/// Tollgate's whole public HTTP contract. The global security (a session) is the management
/// API's; `/v1` and OAuth operations declare their own.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tollgate",
        description = "Machine-to-machine API authentication: organizations, people, API clients, secrets; the OAuth 2.0 client-credentials endpoints; and the compliance resource API that accepts the access tokens.",
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
        objects::list_programs, objects::create_program, objects::get_program,
        objects::update_program, objects::delete_program,
        objects::list_controls, objects::create_control, objects::get_control,
        objects::update_control, objects::delete_control,
        objects::list_risks, objects::create_risk, objects::get_risk,
        objects::update_risk, objects::delete_risk,
        objects::list_tasks, objects::create_task, objects::get_task,
        objects::update_task, objects::delete_task,
        objects::list_audits, objects::create_audit, objects::get_audit,
        objects::update_audit, objects::delete_audit,
        users::list, users::get,
        token::issue, introspect::introspect, introspect::revoke,
        metadata::jwks, metadata::authorization_server,
    ),
    components(schemas(ErrorBody, ErrorDetail, OAuthErrorBody)),
    modifiers(&SecuritySchemes),
    security(("session_token" = []), ("session_cookie" = [])),
    tags(
        (name = "sessions", description = "Signing in and out"),
        (name = "organization", description = "The organization and its M2M switch"),
        (name = "people", description = "People and their roles"),
        (name = "api-clients", description = "Service-account and personal API clients and their secrets"),
        (name = "governance", description = "Admins' view of personal clients"),
        (name = "audit", description = "The append-only audit log"),
        (name = "compliance", description = "The compliance resource API (`/v1`): programs, controls, risks, tasks, audits and the directory, for Bearer access tokens"),
        (name = "oauth", description = "OAuth 2.0 authorization server: client-credentials tokens, introspection, revocation, keys and metadata"),
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
        // RFC 6750: `/v1` takes the access tokens `POST /oauth/token` issues (RFC 9068 JWTs).
        components.add_security_scheme(
            "bearer_access_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from POST /oauth/token; each operation needs the scope it lists.",
                    ))
                    .build(),
            ),
        );
        // RFC 6749 §2.3.1: the OAuth endpoints authenticate the client with HTTP Basic
        // (`client_secret_post`, the same credentials in the form, is described on each).
        components.add_security_scheme(
            "client_secret_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "An API client's ID and secret, each form-urlencoded before Basic encoding.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as pretty JSON (what `tollgate openapi` prints and the repository commits).
pub fn json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
}
