//! Helpers shared by the tests of the real `tollgate` binary: fresh databases on either
//! engine, running commands, starting `serve` and reading what it prints, HTTP calls.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

#[derive(Clone, Copy, Debug)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The database URL for a fresh database of `engine`.
pub async fn database_url(engine: Engine, dir: &Path) -> String {
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

pub fn tollgate(dir: &Path, database_url: &str) -> Command {
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
pub async fn init(dir: &Path, url: &str) -> String {
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
pub async fn serve(dir: &Path, url: &str) -> (Child, String) {
    let mut cmd = tollgate(dir, url);
    cmd.args(["serve", "--no-bootstrap"]);
    let (child, address, _) = start_serving(cmd).await;
    (child, address)
}

/// Spawns a prepared `serve` command and waits until it listens: the process, its base
/// URL and every line it printed before that.
pub async fn start_serving(mut cmd: Command) -> (Child, String, Vec<String>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (address, printed) = tokio::time::timeout(Duration::from_secs(60), async {
        let mut printed = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("Tollgate is listening on ") {
                let address = rest.split_whitespace().next().unwrap().to_owned();
                printed.push(line);
                return (address, printed);
            }
            printed.push(line);
        }
        panic!("serve exited before listening: {printed:?}");
    })
    .await
    .expect("serve starts within a minute");
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, address, printed)
}

/// Sends a request and SIGKILLs `server` the moment the answer has arrived; returns it.
pub async fn call_then_kill(
    server: &mut Child,
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let answer = call(http, method, url, token, body).await;
    server.start_kill().expect("SIGKILL");
    server.wait().await.unwrap();
    answer
}

pub async fn call(
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

pub async fn sign_in(http: &reqwest::Client, base: &str, password: &str) -> String {
    sign_in_as(http, base, "admin@acme.test", password).await
}

/// Signs `email` in; returns the session token.
pub async fn sign_in_as(http: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let (status, body) = call(
        http,
        reqwest::Method::POST,
        format!("{base}/api/v1/sessions"),
        "",
        json!({"email": email, "password": password}),
    )
    .await;
    assert_eq!(status, 201, "sign-in with the printed password: {body}");
    body["session_token"].as_str().unwrap().to_owned()
}

/// The generated password that `init` printed.
pub fn printed_password(printed: &str) -> String {
    printed
        .lines()
        .find_map(|l| l.strip_prefix("password:"))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("init prints the password")
        .to_owned()
}

/// One `#[tokio::test]` per engine for each listed `async fn(Engine)`.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::common::Engine::Sqlite).await } )*
        }
        mod on_postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::common::Engine::Postgres).await } )*
        }
    };
}
