//! The real `tollgate` binary: `init` prints a password once and it signs in; a client saved
//! with a 2xx survives SIGKILL right after the answer. On SQLite and on PostgreSQL.

use serde_json::{json, Value};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

#[derive(Clone, Copy, Debug)]
enum Engine {
    Sqlite,
    Postgres,
}

/// The database URL for a fresh database of `engine`.
async fn database_url(engine: Engine, dir: &Path) -> String {
    match engine {
        Engine::Sqlite => format!("sqlite://{}", dir.join("tollgate.db").display()),
        Engine::Postgres => {
            use sqlx::Connection;
            let admin_url = std::env::var("TOLLGATE_TEST_PG_URL")
                .expect("TOLLGATE_TEST_PG_URL is not set: run the test suite with ./scripts/test");
            let name = format!(
                "tg_test_cli_{}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            );
            let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let (base, _) = admin_url.rsplit_once('/').unwrap();
            format!("{base}/{name}")
        }
    }
}

fn tollgate(dir: &Path, database_url: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TOLLGATE_DATA_DIR", dir)
        .env("TOLLGATE_DATABASE_URL", database_url)
        .env("TOLLGATE_LISTEN", "127.0.0.1:0")
        .env("TOLLGATE_LOG", "warn")
        .kill_on_drop(true);
    cmd
}

/// `tollgate init`; returns its standard output.
async fn init(dir: &Path, url: &str) -> String {
    let out = tollgate(dir, url)
        .args(["init", "--org", "Acme", "--admin-email", "Admin@Acme.test"])
        .output()
        .await
        .expect("run init");
    assert!(
        out.status.success(),
        "init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Starts `tollgate serve` and waits for its address.
async fn serve(dir: &Path, url: &str) -> (Child, String) {
    let mut child = tollgate(dir, url)
        .args(["serve", "--no-bootstrap"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("Tollgate is listening on ") {
                return rest.split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("serve exited before listening");
    })
    .await
    .expect("serve starts within a minute");
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, address)
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let mut req = http.request(method, url).json(&body);
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn sign_in(http: &reqwest::Client, base: &str, password: &str) -> String {
    let (status, body) = call(
        http,
        reqwest::Method::POST,
        format!("{base}/api/v1/sessions"),
        "",
        json!({"email": "admin@acme.test", "password": password}),
    )
    .await;
    assert_eq!(status, 201, "sign-in with the printed password: {body}");
    body["session_token"].as_str().unwrap().to_owned()
}

async fn a_client_survives_sigkill_right_after_it_is_acknowledged(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(engine, dir.path()).await;
    let http = reqwest::Client::new();

    // `init` prints a generated password once, and it signs in.
    let printed = init(dir.path(), &url).await;
    let password = printed
        .lines()
        .find_map(|l| l.strip_prefix("password:"))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("init prints the password")
        .to_owned();
    assert_eq!(printed.matches(&password).count(), 1, "{printed}");
    assert!(password.len() >= 12);

    let (mut server, base) = serve(dir.path(), &url).await;
    let token = sign_in(&http, &base, &password).await;
    let (status, _) = call(
        &http,
        reqwest::Method::PATCH,
        format!("{base}/api/v1/org"),
        &token,
        json!({"m2m_enabled": true}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, draft) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/v1/api-clients/drafts"),
        &token,
        json!({"type": "service_account"}),
    )
    .await;
    assert_eq!(status, 201);
    let client_id = draft["client_id"].as_str().unwrap().to_owned();

    // Act: save the client, then SIGKILL the process the moment the 2xx arrives.
    let (status, created) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/v1/api-clients"),
        &token,
        json!({"client_id": client_id, "type": "service_account", "name": "Durable", "role": "user", "scopes": ["audit.read"]}),
    )
    .await;
    server.start_kill().expect("SIGKILL");
    assert_eq!(status, 201, "{created}");
    server.wait().await.unwrap();

    // Assert: a new process on the same data has the client, its secret and the session.
    let (_server, base) = serve(dir.path(), &url).await;
    let (status, client) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/api/v1/api-clients/{client_id}"),
        &token,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{client}");
    assert_eq!(client["name"], "Durable");
    assert_eq!(client["secrets"][0]["id"], created["secret"]["id"]);
    let fresh = sign_in(&http, &base, &password).await;
    assert!(!fresh.is_empty());
}

async fn init_refuses_a_second_admin_with_the_same_email(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(engine, dir.path()).await;
    init(dir.path(), &url).await;

    let again = tollgate(dir.path(), &url)
        .args(["init", "--org", "Other", "--admin-email", "admin@acme.test"])
        .output()
        .await
        .unwrap();

    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).trim().is_empty(),
        "no password is printed for a refused init"
    );
}

async fn init_reads_the_password_from_a_file_and_prints_none(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(engine, dir.path()).await;
    let file = dir.path().join("password.txt");
    std::fs::write(&file, "from a file, long enough\n").unwrap();

    let out = tollgate(dir.path(), &url)
        .args(["init", "--org", "Acme", "--admin-email", "admin@acme.test"])
        .arg("--password-file")
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(!printed.contains("password:"), "{printed}");

    let (_server, base) = serve(dir.path(), &url).await;
    sign_in(&reqwest::Client::new(), &base, "from a file, long enough").await;
}

macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(super::Engine::Sqlite).await } )*
        }
        mod on_postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(super::Engine::Postgres).await } )*
        }
    };
}

both_engines!(
    a_client_survives_sigkill_right_after_it_is_acknowledged,
    init_refuses_a_second_admin_with_the_same_email,
    init_reads_the_password_from_a_file_and_prints_none,
);
