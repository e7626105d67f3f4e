//! The operator commands of the real `tollgate` binary: `serve` with no configuration at
//! all (the README's first command), `migrate`, `openapi` and `healthcheck`.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tokio::process::Command;

/// The repository's root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `tollgate` in `dir` with an empty environment (only `PATH`) and `extra` variables.
fn bare(dir: &Path, extra: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .kill_on_drop(true);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd
}

/// The value after `label` on the first printed line that has it.
fn printed_value(lines: &[String], label: &str) -> Option<String> {
    lines.iter().find_map(|l| {
        l.trim()
            .strip_prefix(label)
            .map(|rest| rest.trim().to_owned())
    })
}

async fn serve_with_no_configuration_creates_its_database_and_prints_a_working_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing is configured but the port: the default 127.0.0.1:8080 could be taken by
    // another test run on this machine. No file, no data directory, no database URL.
    let port_only = [("TOLLGATE_LISTEN", "127.0.0.1:0")];
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());

    let mut first = bare(dir.path(), &port_only);
    first.arg("serve");
    let (mut server, base, printed) = start_serving(first).await;

    let email = printed_value(&printed, "email:").expect("the Admin's email is printed");
    let password = printed_value(&printed, "password:").expect("a password is printed");
    assert_eq!(email, "admin@tollgate.local");
    assert!(password.len() >= 12, "{password}");
    let data = dir.path().join("tollgate-data");
    assert!(
        data.join("tollgate.db").is_file(),
        "./tollgate-data/tollgate.db"
    );
    assert!(
        data.join("master.key").is_file(),
        "./tollgate-data/master.key"
    );
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("tollgate.db").display()))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    assert_eq!(mode, "wal");
    let http = reqwest::Client::new();
    sign_in_as(&http, &base, &email, &password).await;
    server.start_kill().unwrap();
    server.wait().await.unwrap();

    // A second start on the same data prints no password, and the first one still works.
    let mut second = bare(dir.path(), &port_only);
    second.arg("serve");
    let (_server, base, printed) = start_serving(second).await;
    assert!(
        !printed
            .iter()
            .any(|l| l.contains("password") || l.contains(&password)),
        "{printed:?}"
    );
    sign_in_as(&http, &base, &email, &password).await;
}

async fn migrate_applies_every_migration_and_can_run_again(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(engine, dir.path()).await;
    let engine_dir = match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    let files = std::fs::read_dir(repo().join("crates/store/migrations").join(engine_dir))
        .unwrap()
        .count() as i64;

    for _ in 0..2 {
        let out = tollgate(dir.path(), &url)
            .arg("migrate")
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap().trim(),
            format!("migrations applied ({engine_dir})")
        );
    }

    let sql = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
    let applied: i64 = match engine {
        Engine::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
        }
        Engine::Postgres => {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
        }
    };
    assert_eq!(applied, files);
}

async fn openapi_prints_the_committed_document() {
    let dir = tempfile::tempdir().unwrap();

    let out = bare(dir.path(), &[]).arg("openapi").output().await.unwrap();

    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("docs/openapi.json")).unwrap())
            .unwrap();
    assert!(
        printed == committed,
        "docs/openapi.json differs from what `tollgate openapi` prints (regenerate it with UPDATE_OPENAPI=1)"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "openapi touches no data"
    );
}

async fn healthcheck_exits_zero_when_the_service_is_up_and_non_zero_when_it_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(Engine::Sqlite, dir.path()).await;
    let (mut server, base) = serve(dir.path(), &url).await;

    let up = bare(dir.path(), &[])
        .args(["healthcheck", "--url", &base])
        .output()
        .await
        .unwrap();
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    let down = bare(dir.path(), &[])
        .args(["healthcheck", "--url", &base])
        .output()
        .await
        .unwrap();
    let nothing_there = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        bare(dir.path(), &[])
            .args(["healthcheck", "--url", &format!("http://127.0.0.1:{port}")])
            .output()
            .await
            .unwrap()
    };

    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&up.stdout).trim(), "ok");
    for out in [&down, &nothing_there] {
        assert!(!out.status.success());
        assert_ne!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tollgate_serve_with_no_configuration_creates_its_database_and_prints_a_working_sign_in() {
    serve_with_no_configuration_creates_its_database_and_prints_a_working_sign_in().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tollgate_openapi_prints_the_committed_document() {
    openapi_prints_the_committed_document().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tollgate_healthcheck_exits_zero_when_the_service_is_up_and_non_zero_when_it_is_down() {
    healthcheck_exits_zero_when_the_service_is_up_and_non_zero_when_it_is_down().await
}

both_engines!(migrate_applies_every_migration_and_can_run_again);
