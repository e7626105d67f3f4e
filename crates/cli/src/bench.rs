//! `tollgate bench`: measures the token endpoint end to end.
//!
//! Starts a real server as a child process (`tollgate serve` from this same binary) on
//! `127.0.0.1:0` over a temporary SQLite database (or the `--database-url` given), creates an
//! organization, turns M2M on and registers clients through the management API over HTTP,
//! then drives `POST /oauth/token` (client credentials, `client_secret_basic`) from a fixed
//! number of keep-alive connections in this process, round-robin over the clients. Prints
//! tokens/s, latency percentiles, errors, and the server process's memory (the load
//! generator's own buffers are not counted). It touches no existing data: the temporary
//! directory is removed at the end, and with `--database-url` it adds one new organization.

use anyhow::{bail, Context};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, BufReader};
use tollgate_server::{bootstrap, Config};
use tollgate_store::Store;

/// Options of `tollgate bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Service-account clients to register and use round-robin.
    #[arg(long, default_value_t = 50)]
    pub clients: usize,
    /// Concurrent keep-alive connections (one request in flight on each).
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds of load before measuring (fills caches and connection pools).
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Database to use instead of a temporary SQLite file, e.g. an empty PostgreSQL database
    /// (`postgres://user:pass@127.0.0.1/bench`). A new organization is added to it.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Signing algorithm of the server's key: ES256, EdDSA or RS256 (default: the
    /// `signing_alg` setting). Applies only to a database without keys.
    #[arg(long)]
    pub alg: Option<String>,
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

/// Runs the benchmark and prints its report. `config_file` is the `--config` given to this
/// command, handed on to the server process.
pub async fn run(base: Config, config_file: Option<&Path>, args: BenchArgs) -> anyhow::Result<()> {
    if args.clients == 0 || args.connections == 0 || args.duration == 0 {
        bail!("--clients, --connections and --duration must be at least 1");
    }
    let data_dir = tempfile::Builder::new()
        .prefix("tollgate-bench-")
        .tempdir()
        .context("creating a temporary data directory")?;
    if let Some(alg) = &args.alg {
        if !matches!(alg.as_str(), "ES256" | "EdDSA" | "RS256") {
            bail!("--alg must be ES256, EdDSA or RS256");
        }
    }
    let alg = args.alg.clone().unwrap_or_else(|| base.signing_alg.clone());
    let mut config = base;
    config.data_dir = data_dir.path().to_path_buf();
    config.database_url = args.database_url.clone();
    let database_url = config.database_url();
    let database = match &args.database_url {
        None => "SQLite in a temporary directory".to_owned(),
        Some(url) if url.starts_with("postgres") => "PostgreSQL (--database-url)".to_owned(),
        Some(_) => "--database-url".to_owned(),
    };

    // The server, in its own process: this binary's `serve`, configured by the same file and
    // variables as this command, with the listener, data directory, database and algorithm
    // of the benchmark on top.
    let exe = std::env::current_exe().context("locating the tollgate binary")?;
    let mut command = tokio::process::Command::new(exe);
    command
        .arg("serve")
        .arg("--no-bootstrap")
        .env("TOLLGATE_LISTEN", "127.0.0.1:0")
        .env("TOLLGATE_DATA_DIR", data_dir.path())
        .env("TOLLGATE_DATABASE_URL", &database_url)
        .env("TOLLGATE_SIGNING_ALG", &alg)
        .env_remove("TOLLGATE_PUBLIC_URL")
        .env_remove("TOLLGATE_AUDIENCE")
        .env(
            "TOLLGATE_LOG",
            std::env::var("TOLLGATE_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if let Some(file) = config_file {
        command.arg("--config").arg(file);
    }
    let mut server = command.spawn().context("starting `tollgate serve`")?;
    let server_pid = server.id().context("the server process has no id")?;
    let mut lines = BufReader::new(server.stdout.take().context("no server stdout")?).lines();
    let listening = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.strip_prefix("Tollgate is listening on ") {
                return Ok::<_, std::io::Error>(rest.split_whitespace().next().map(str::to_owned));
            }
        }
        Ok(None)
    })
    .await;
    let base_url = match listening {
        Ok(Ok(Some(url))) => url,
        _ => {
            let _ = server.start_kill();
            let status = server.wait().await?;
            bail!(
                "the server did not start ({status}){}",
                match &args.database_url {
                    Some(_) => "; --database-url needs an empty database, or TOLLGATE_MASTER_KEY set to the key its signing keys were sealed with",
                    None => "",
                }
            );
        }
    };
    // Keep reading the server's stdout so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let store = Store::connect(&database_url, 2)
        .await
        .context("opening the benchmark's database")?;

    // An organization with M2M on and its clients, through the real API.
    let nonce = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let email = format!("bench-{nonce:x}@tollgate.local");
    let password = tollgate_server::password::generate();
    bootstrap::create_org(&store, "Benchmark", &email, "Benchmark admin", &password).await?;
    let setup = reqwest::Client::new();
    let session = api(
        &setup,
        reqwest::Method::POST,
        &format!("{base_url}/api/v1/sessions"),
        None,
        json!({"email": email, "password": password}),
    )
    .await?["session_token"]
        .as_str()
        .context("no session token")?
        .to_owned();
    api(
        &setup,
        reqwest::Method::PATCH,
        &format!("{base_url}/api/v1/org"),
        Some(&session),
        json!({"m2m_enabled": true}),
    )
    .await?;
    let setup_started = Instant::now();
    let mut credentials = Vec::with_capacity(args.clients);
    for i in 0..args.clients {
        let draft = api(
            &setup,
            reqwest::Method::POST,
            &format!("{base_url}/api/v1/api-clients/drafts"),
            Some(&session),
            json!({"type": "service_account"}),
        )
        .await?;
        let created = api(
            &setup,
            reqwest::Method::POST,
            &format!("{base_url}/api/v1/api-clients"),
            Some(&session),
            json!({"client_id": draft["client_id"], "type": "service_account",
                   "name": format!("bench {i}"), "role": "user",
                   "scopes": ["control.read", "risk.read"]}),
        )
        .await?;
        let id = created["client"]["client_id"]
            .as_str()
            .context("no client_id")?;
        let secret = created["secret"]["value"].as_str().context("no secret")?;
        credentials.push(basic_authorization(id, secret)?);
    }
    let setup_took = setup_started.elapsed();
    let idle_memory = memory(server_pid);

    // The load.
    let credentials = Arc::new(credentials);
    let http = reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(args.connections)
        .build()?;
    let token_url = Arc::new(format!("{base_url}/oauth/token"));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let measure_from = started + Duration::from_secs(args.warmup);
    let measure_until = measure_from + Duration::from_secs(args.duration);
    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            tokio::spawn(connection(
                http.clone(),
                token_url.clone(),
                credentials.clone(),
                next.clone(),
                measure_from,
                measure_until,
            ))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for worker in workers {
        let tally = worker.await?;
        latencies.extend(tally.latencies_us);
        errors += tally.errors;
        first_error = first_error.or(tally.first_error);
    }
    let measured = Instant::now()
        .min(measure_until)
        .saturating_duration_since(measure_from)
        .max(Duration::from_millis(1));
    let loaded_memory = memory(server_pid);
    server.start_kill()?;
    server.wait().await?;

    // The report.
    latencies.sort_unstable();
    let ok = latencies.len();
    let pct = |q: f64| -> String {
        match latencies.len() {
            0 => "-".into(),
            n => {
                let i = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
                format!("{:.2} ms", f64::from(latencies[i]) / 1000.0)
            }
        }
    };
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("tollgate bench: POST /oauth/token (client_credentials, client_secret_basic)");
    println!("  server       process {server_pid} at {base_url}; {database}; {alg} signing key");
    println!(
        "  clients      {} service accounts registered through /api/v1 in {:.1} s, used round-robin",
        args.clients,
        setup_took.as_secs_f64()
    );
    println!(
        "  load         {} keep-alive HTTP/1.1 connections from this process; {} s warm-up, {} s measured",
        args.connections, args.warmup, args.duration
    );
    println!("  CPUs         {cpus}, shared by the server process and the load generator");
    println!();
    println!(
        "  tokens/s     {}",
        thousands((ok as f64 / measured.as_secs_f64()).round() as u64)
    );
    println!(
        "  requests     {} ok, {errors} errors in {:.2} s",
        thousands(ok as u64),
        measured.as_secs_f64()
    );
    println!(
        "  latency      p50 {}   p90 {}   p99 {}   max {}",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "  memory       server VmRSS {} idle after setup, {} after the load; VmHWM (peak) {}",
        idle_memory.0, loaded_memory.0, loaded_memory.1
    );
    if let Some(e) = first_error {
        println!("  first error  {e}");
    }
    Ok(())
}

/// One keep-alive connection: sends requests back to back until `until`, timing those sent
/// from `from` on.
async fn connection(
    http: reqwest::Client,
    url: Arc<String>,
    credentials: Arc<Vec<HeaderValue>>,
    next: Arc<AtomicUsize>,
    from: Instant,
    until: Instant,
) -> Tally {
    let mut tally = Tally::default();
    loop {
        let sent = Instant::now();
        if sent >= until {
            return tally;
        }
        let i = next.fetch_add(1, Ordering::Relaxed) % credentials.len();
        let outcome = match http
            .post(url.as_str())
            .header(AUTHORIZATION, credentials[i].clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status();
                match response.bytes().await {
                    Ok(body) if status.is_success() && contains(&body, b"\"access_token\"") => {
                        Ok(())
                    }
                    Ok(body) => Err(format!(
                        "{status}: {}",
                        String::from_utf8_lossy(&body[..body.len().min(200)])
                    )),
                    Err(e) => Err(format!("reading the body: {e}")),
                }
            }
            Err(e) => Err(format!("sending: {e}")),
        };
        if sent < from {
            continue;
        }
        match outcome {
            Ok(()) => tally
                .latencies_us
                .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX)),
            Err(e) => {
                tally.errors += 1;
                tally.first_error.get_or_insert(e);
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `Authorization: Basic …` for a client (RFC 6749 §2.3.1: id and secret are
/// form-urlencoded first, which leaves Tollgate's alphanumeric ones unchanged).
fn basic_authorization(id: &str, secret: &str) -> anyhow::Result<HeaderValue> {
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !plain(id) || !plain(secret) {
        bail!("unexpected characters in a client id or secret");
    }
    let request = reqwest::Client::new()
        .get("http://127.0.0.1/")
        .basic_auth(id, Some(secret))
        .build()?;
    request
        .headers()
        .get(AUTHORIZATION)
        .cloned()
        .context("no Authorization header")
}

/// Sends a management API request; the JSON answer, or an error naming the status and body.
async fn api(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    session: Option<&str>,
    body: Value,
) -> anyhow::Result<Value> {
    let mut request = http.request(method.clone(), url).json(&body);
    if let Some(token) = session {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("{method} {url}"))?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("{method} {url} answered {status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `(VmRSS, VmHWM)` of process `pid` from `/proc/<pid>/status`, e.g. `("41.2 MiB", "45.0 MiB")`.
fn memory(pid: u32) -> (String, String) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> String {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| format!("{:.1} MiB", kb as f64 / 1024.0))
            .unwrap_or_else(|| "n/a (no /proc)".into())
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let first = match digits.len() % 3 {
        0 => 3.min(digits.len()),
        r => r,
    };
    let (head, rest) = digits.split_at(first);
    let mut out = head.to_owned();
    for group in rest.as_bytes().chunks(3) {
        out.push(',');
        out.push_str(std::str::from_utf8(group).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(31_234_567), "31,234,567");
    }
}
