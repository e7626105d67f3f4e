//! `spawn_app`: the real server on a random port over a fresh database, and one helper per
//! endpoint. Every test runs on both engines through [`both_engines!`].

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Once;
use tollgate_server::{bootstrap, Application, Config};
use tollgate_store::Store;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per engine for each listed `async fn(Engine)`.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Engine::Sqlite).await } )*
        }
        mod on_postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Engine::Postgres).await } )*
        }
    };
}

/// The first Admin's password in every test organization.
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

static TRACING: Once = Once::new();

fn init_logs() {
    TRACING.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tracing_subscriber::fmt()
                .with_env_filter("info,sqlx=warn")
                .with_test_writer()
                .init();
        }
    });
}

/// A fresh PostgreSQL database for one test; its URL.
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let admin_url = std::env::var("TOLLGATE_TEST_PG_URL").expect(
        "TOLLGATE_TEST_PG_URL is not set: run the test suite with ./scripts/test, which starts PostgreSQL",
    );
    let name = format!(
        "tg_test_{}",
        tollgate_domain::ids::random_base62(&mut rand::rngs::OsRng, 12).to_lowercase()
    );
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect to the PostgreSQL test server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    let (base, _) = admin_url.rsplit_once('/').expect("URL has a database");
    format!("{base}/{name}")
}

/// A running server and an Admin signed in to a fresh organization.
pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub store: Store,
    pub engine: Engine,
    pub org_id: String,
    pub admin_id: String,
    pub admin: String,
    pub config: Config,
    _data_dir: tempfile::TempDir,
}

/// A test configuration over the given engine (port 0, private data directory).
pub async fn test_config(engine: Engine, data_dir: &std::path::Path) -> Config {
    let database_url = match engine {
        Engine::Sqlite => format!("sqlite://{}", data_dir.join("tollgate.db").display()),
        Engine::Postgres => fresh_postgres_database().await,
    };
    Config {
        listen: "127.0.0.1:0".into(),
        data_dir: data_dir.to_path_buf(),
        database_url: Some(database_url),
        db_max_connections: 8,
        key_refresh_seconds: 1,
        usage_flush_seconds: 1,
        key_publish_delay_seconds: 2,
        ..Config::default()
    }
}

/// Starts the application from `config` and returns its base URL and store.
pub async fn start(config: Config) -> (String, Store) {
    let app = Application::build(config)
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.state().store.clone();
    tokio::spawn(app.run_until(std::future::pending()));
    (address, store)
}

/// Starts Tollgate on a fresh database with one organization and its Admin signed in.
pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_with(engine, |_| {}).await
}

/// [`spawn_app`] with a change to the test configuration.
pub async fn spawn_app_with(engine: Engine, change: impl FnOnce(&mut Config)) -> TestApp {
    init_logs();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(engine, data_dir.path()).await;
    change(&mut config);
    let (address, store) = start(config.clone()).await;
    let org = bootstrap::create_org(
        &store,
        "Acme",
        "admin@acme.test",
        "Ada Admin",
        ADMIN_PASSWORD,
    )
    .await
    .expect("bootstrap");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let mut app = TestApp {
        address,
        http,
        store,
        engine,
        org_id: org.org_id,
        admin_id: org.admin_id,
        admin: String::new(),
        config,
        _data_dir: data_dir,
    };
    app.admin = app.sign_in("admin@acme.test", ADMIN_PASSWORD).await;
    app
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an error status and code.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Reply {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "body: {}",
            self.text
        );
        self
    }
}

impl TestApp {
    /// Sends a request with a bearer session token and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.address));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Signs in and returns the session token.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let reply = self
            .post(
                "/api/v1/sessions",
                "",
                json!({"email": email, "password": password}),
            )
            .await
            .expect(201);
        reply.body["session_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Adds a person with `role` and signs them in: `(person id, session token)`.
    pub async fn add_person(&self, role: &str) -> (String, String) {
        let n = tollgate_domain::ids::random_base62(&mut rand::rngs::OsRng, 8).to_lowercase();
        let email = format!("{role}.{n}@acme.test");
        let password = "a long enough password";
        let reply = self
            .post(
                "/api/v1/people",
                &self.admin,
                json!({"email": email, "name": format!("{role} {n}"), "role": role, "password": password}),
            )
            .await
            .expect(201);
        let id = reply.body["person"]["id"].as_str().expect("id").to_owned();
        (id, self.sign_in(&email, password).await)
    }

    /// Turns M2M API authentication on.
    pub async fn enable_m2m(&self) {
        self.patch("/api/v1/org", &self.admin, json!({"m2m_enabled": true}))
            .await
            .expect(200);
    }

    /// Opens a draft and returns its client ID.
    pub async fn open_draft(&self, token: &str, client_type: &str) -> String {
        let reply = self
            .post(
                "/api/v1/api-clients/drafts",
                token,
                json!({"type": client_type}),
            )
            .await
            .expect(201);
        reply.body["client_id"]
            .as_str()
            .expect("client_id")
            .to_owned()
    }

    /// Opens a draft and saves it with `fields` added; returns the reply.
    pub async fn try_create_client(&self, token: &str, client_type: &str, fields: Value) -> Reply {
        let client_id = self.open_draft(token, client_type).await;
        let mut body = json!({"client_id": client_id, "type": client_type});
        for (k, v) in fields.as_object().expect("object").iter() {
            body[k] = v.clone();
        }
        self.post("/api/v1/api-clients", token, body).await
    }

    /// Creates a service-account client: `(client_id, secret value, body)`.
    pub async fn create_service_account(
        &self,
        name: &str,
        role: &str,
        scopes: &[&str],
    ) -> (String, String, Value) {
        let reply = self
            .try_create_client(
                &self.admin,
                "service_account",
                json!({"name": name, "role": role, "scopes": scopes}),
            )
            .await
            .expect(201);
        created(reply)
    }

    /// Creates a personal client for the person behind `token`.
    pub async fn create_personal(
        &self,
        token: &str,
        name: &str,
        scopes: &[&str],
    ) -> (String, String, Value) {
        let reply = self
            .try_create_client(token, "personal", json!({"name": name, "scopes": scopes}))
            .await
            .expect(201);
        created(reply)
    }
}

fn created(reply: Reply) -> (String, String, Value) {
    let id = reply.body["client"]["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned();
    let secret = reply.body["secret"]["value"]
        .as_str()
        .expect("secret")
        .to_owned();
    (id, secret, reply.body)
}

/// Reads a response whole.
pub async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}
