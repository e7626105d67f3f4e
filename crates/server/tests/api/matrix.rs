//! The authorization matrix: `management_matrix.md` is parsed and every cell (operation ×
//! caller kind) is sent to the running server, on fresh objects, on both engines.

use crate::helpers::{spawn_app, Engine, TestApp};
use crate::mgmt_helpers::{send, unique};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

const TABLE: &str = include_str!("management_matrix.md");
const CALLERS: [&str; 8] = [
    "admin",
    "compliance_manager",
    "user",
    "external_auditor",
    "anonymous",
    "sa_admin_token",
    "sa_api_admin_token",
    "personal_admin_token",
];
const PASSWORD: &str = "a long enough password";

/// One row of the table.
#[derive(Debug)]
struct Row {
    operation: String,
    method: String,
    path: String,
    body: Option<String>,
    expected: HashMap<String, u16>,
}

fn parse_table() -> Vec<Row> {
    let mut lines = TABLE.lines().map(str::trim).filter(|l| l.starts_with('|'));
    let cells = |line: &str| -> Vec<String> {
        line.trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_owned())
            .collect()
    };
    let header = cells(lines.next().expect("a header row"));
    assert_eq!(&header[..3], ["operation", "request", "body"]);
    assert_eq!(&header[3..], CALLERS, "the caller columns");
    let _separator = lines.next();
    lines
        .map(|line| {
            let c = cells(line);
            assert_eq!(c.len(), header.len(), "row has every column: {line}");
            let (method, path) = c[1].split_once(' ').expect("`METHOD /path`");
            Row {
                operation: c[0].clone(),
                method: method.to_owned(),
                path: path.to_owned(),
                body: Some(c[2].clone()).filter(|b| !b.is_empty()),
                expected: CALLERS
                    .iter()
                    .zip(&c[3..])
                    .map(|(caller, status)| {
                        let status = status
                            .parse()
                            .unwrap_or_else(|_| panic!("status in {line}"));
                        (caller.to_string(), status)
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The `{name}` placeholders of a text.
fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end)
                if end > 0
                    && after[..end]
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_') =>
            {
                out.push(after[..end].to_owned());
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

/// A person the matrix acts as.
struct Person {
    id: String,
    email: String,
}

async fn add_person(app: &TestApp, role: &str) -> Person {
    let email = format!("{role}.{}@acme.test", unique());
    let reply = app
        .post(
            "/api/v1/people",
            &app.admin,
            json!({"email": email, "name": format!("Matrix {}", unique()), "role": role, "password": PASSWORD}),
        )
        .await
        .expect(201);
    Person {
        id: reply.body["person"]["id"].as_str().unwrap().to_owned(),
        email,
    }
}

/// Fresh objects for one cell, made on first use.
struct Cell<'a> {
    app: &'a TestApp,
    caller_is_admin: bool,
    me: &'a Person,
    my_token: String,
    other_token: &'a str,
    values: HashMap<String, String>,
}

impl Cell<'_> {
    async fn value(&mut self, name: &str) -> String {
        if let Some(v) = self.values.get(name) {
            return v.clone();
        }
        let app = self.app;
        match name {
            "me" => self.put("me", self.me.id.clone()),
            "email" => self.put("email", self.me.email.clone()),
            "password" => self.put("password", PASSWORD.into()),
            "n" => self.put("n", unique()),
            "person" => {
                let p = add_person(app, "user").await;
                self.put("person", p.id)
            }
            "sa" | "sa_secret" => {
                let (id, _, body) = app
                    .create_service_account(&format!("SA {}", unique()), "user", &["audit.read"])
                    .await;
                self.put("sa_secret", secret_id(&body));
                self.put("sa", id);
            }
            "own" | "own_secret" => {
                let (id, _, body) = app
                    .create_personal(
                        &self.my_token,
                        &format!("Own {}", unique()),
                        &["audit.read"],
                    )
                    .await;
                self.put("own_secret", secret_id(&body));
                self.put("own", id);
            }
            "others" | "others_secret" => {
                let (id, _, body) = app
                    .create_personal(
                        self.other_token,
                        &format!("Other {}", unique()),
                        &["audit.read"],
                    )
                    .await;
                self.put("others_secret", secret_id(&body));
                self.put("others", id);
            }
            "own_draft" => {
                let id = app.open_draft(&self.my_token, "personal").await;
                self.put("own_draft", id);
            }
            "revoked" | "revoked_secret" => {
                let (id, _, body) = app
                    .create_personal(
                        &self.my_token,
                        &format!("Revoked {}", unique()),
                        &["audit.read"],
                    )
                    .await;
                app.delete(
                    &format!("/api/v1/governance/personal-clients/{id}"),
                    &app.admin,
                )
                .await
                .expect(204);
                self.put("revoked_secret", secret_id(&body));
                self.put("revoked", id);
            }
            "inactive_person" => {
                let p = add_person(app, "user").await;
                app.patch(
                    &format!("/api/v1/people/{}", p.id),
                    &app.admin,
                    json!({"active": false}),
                )
                .await
                .expect(200);
                self.put("inactive_person", p.id)
            }
            "others_draft" => {
                let id = app.open_draft(self.other_token, "personal").await;
                self.put("others_draft", id);
            }
            "sa_draft" => {
                let opener = if self.caller_is_admin {
                    self.my_token.clone()
                } else {
                    app.admin.clone()
                };
                let id = app.open_draft(&opener, "service_account").await;
                self.put("sa_draft", id);
            }
            other => panic!("unknown placeholder {{{other}}} in management_matrix.md"),
        }
        self.values[name].clone()
    }

    fn put(&mut self, name: &str, value: String) {
        self.values.insert(name.to_owned(), value);
    }

    async fn fill(&mut self, text: &str) -> String {
        let mut out = text.to_owned();
        for name in placeholders(text) {
            let v = self.value(&name).await;
            out = out.replace(&format!("{{{name}}}"), &v);
        }
        out
    }
}

fn secret_id(created: &Value) -> String {
    created["secret"]["id"].as_str().unwrap().to_owned()
}

/// An OAuth access token for the `*_token` callers, from a client that `me` (an Admin) made.
async fn access_token(app: &TestApp, me: &Person, caller: &str) -> String {
    let session = app.sign_in(&me.email, PASSWORD).await;
    let name = format!("Token caller {}", unique());
    let reply = match caller {
        "sa_admin_token" => {
            app.try_create_client(
                &session,
                "service_account",
                json!({"name": name, "role": "admin", "scopes": ["user.read", "control.create", "audit.read"]}),
            )
            .await
        }
        "sa_api_admin_token" => {
            app.try_create_client(
                &session,
                "service_account",
                json!({"name": name, "role": "api_admin", "scopes": ["user.read", "audit.read"]}),
            )
            .await
        }
        "personal_admin_token" => {
            app.try_create_client(
                &session,
                "personal",
                json!({"name": name, "scopes": ["user.read", "audit.read"]}),
            )
            .await
        }
        other => panic!("no access token for {other}"),
    }
    .expect(201);
    let id = reply.body["client"]["client_id"].as_str().unwrap();
    let secret = reply.body["secret"]["value"].as_str().unwrap();
    app.token(id, secret).await
}

/// Runs every row for one caller kind; reports all mismatches at once.
async fn check_column(engine: Engine, caller: &str) {
    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let presents_access_token = caller.ends_with("_token");
    let role = match caller {
        "anonymous" => "user",
        _ if presents_access_token => "admin",
        role => role,
    };
    let me = add_person(&app, role).await;
    let other = add_person(&app, "user").await;
    let other_token = app.sign_in(&other.email, PASSWORD).await;
    let access = if presents_access_token {
        access_token(&app, &me, caller).await
    } else {
        String::new()
    };
    let mut failures = Vec::new();

    for row in parse_table() {
        // Fresh session and objects for every cell.
        let my_token = app.sign_in(&me.email, PASSWORD).await;
        let mut cell = Cell {
            app: &app,
            caller_is_admin: caller == "admin",
            me: &me,
            my_token: my_token.clone(),
            other_token: &other_token,
            values: HashMap::new(),
        };
        let path = cell.fill(&row.path).await;
        let body = match &row.body {
            Some(b) => {
                let text = cell.fill(b).await;
                Some(serde_json::from_str::<Value>(&text).unwrap_or_else(|e| {
                    panic!("body of `{}` is not JSON ({e}): {text}", row.operation)
                }))
            }
            None => None,
        };
        let token = match caller {
            "anonymous" => "",
            _ if presents_access_token => &access,
            _ => &my_token,
        };

        let reply = send(&app, &row.method, &path, token, body).await;

        let expected = row.expected[caller];
        if reply.status.as_u16() != expected {
            failures.push(format!(
                "{} ({} {}): expected {expected}, got {} {}",
                row.operation, row.method, row.path, reply.status, reply.text
            ));
        }
        if row.path == "/api/v1/org" && row.method == "PATCH" {
            app.patch(
                "/api/v1/org",
                &app.admin,
                json!({"m2m_enabled": true, "secret_max_lifetime_days": null}),
            )
            .await
            .expect(200);
        }
    }

    assert!(
        failures.is_empty(),
        "{caller} on {engine:?}: {} cell(s) differ from management_matrix.md:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `METHOD /path/{}` for every operation, with parameters blanked.
fn route_key(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path
        .split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect();
    format!("{} {}", method.to_uppercase(), segments.join("/"))
}

#[test]
fn the_matrix_covers_every_management_route_and_verb() {
    let doc: Value = serde_json::from_str(&tollgate_server::openapi::json()).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for method in ["get", "post", "patch", "put", "delete"] {
            if item.get(method).is_some() {
                routes.insert(route_key(method, path));
            }
        }
    }
    let covered: BTreeSet<String> = parse_table()
        .iter()
        .map(|r| route_key(&r.method, &r.path))
        .collect();

    let missing: Vec<&String> = routes.difference(&covered).collect();
    let unknown: Vec<&String> = covered.difference(&routes).collect();
    assert!(
        missing.is_empty(),
        "routes without a matrix row: {missing:?}"
    );
    assert!(unknown.is_empty(), "matrix rows for no route: {unknown:?}");
}

#[test]
fn the_matrix_table_parses() {
    let rows = parse_table();
    assert!(rows.len() >= 40, "{} rows", rows.len());
    for row in &rows {
        for caller in [
            "anonymous",
            "sa_admin_token",
            "sa_api_admin_token",
            "personal_admin_token",
        ] {
            assert!(
                row.expected[caller] == 401 || row.path == "/api/v1/sessions",
                "{}: only signing in works without a session ({caller})",
                row.operation
            );
        }
    }
}

macro_rules! matrix_columns {
    ($($name:ident => $caller:literal),* $(,)?) => {
        mod on_sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::check_column($crate::helpers::Engine::Sqlite, $caller).await } )*
        }
        mod on_postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::check_column($crate::helpers::Engine::Postgres, $caller).await } )*
        }
    };
}

matrix_columns!(
    an_admin_gets_what_the_matrix_says => "admin",
    a_compliance_manager_gets_what_the_matrix_says => "compliance_manager",
    a_user_gets_what_the_matrix_says => "user",
    an_external_auditor_gets_what_the_matrix_says => "external_auditor",
    a_caller_without_a_session_gets_what_the_matrix_says => "anonymous",
    an_admin_service_accounts_access_token_gets_what_the_matrix_says => "sa_admin_token",
    an_api_admin_service_accounts_access_token_gets_what_the_matrix_says => "sa_api_admin_token",
    an_admins_personal_clients_access_token_gets_what_the_matrix_says => "personal_admin_token",
);
