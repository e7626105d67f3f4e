//! The `tollgate` binary: one command for operators.
//!
//! `serve` runs the service (on an empty database it first creates an organization and an
//! Admin and prints the sign-in once); `init` creates an organization non-interactively;
//! `migrate`, `openapi` and `healthcheck` are for deployment scripts; `keys` lists and rotates
//! the token-signing keys; `bench` measures the token endpoint (see `bench.rs`).

mod bench;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use tollgate_server::keys::MasterKey;
use tollgate_server::oauth::keys;
use tollgate_server::{bootstrap, Application, Config};
use tollgate_store::Store;

#[derive(Parser)]
#[command(
    name = "tollgate",
    version,
    about = "Self-hosted machine-to-machine API authentication"
)]
struct Cli {
    /// Configuration file (default: ./tollgate.toml if present). TOLLGATE_* variables override it.
    #[arg(long, global = true, env = "TOLLGATE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Lists the signing keys and their state.
    List,
    /// Publishes a new signing key now; it signs after `key_publish_delay_seconds`, when the
    /// current key retires (staying published until its tokens have expired).
    Rotate {
        /// Algorithm of the new key (default: the `signing_alg` setting).
        #[arg(long)]
        alg: Option<String>,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Runs the service until Ctrl-C or SIGTERM.
    Serve {
        /// Do not create a first organization on an empty database.
        #[arg(long)]
        no_bootstrap: bool,
    },
    /// Creates an organization and its first Admin.
    Init {
        /// The organization's name.
        #[arg(long)]
        org: String,
        /// The Admin's email (their sign-in).
        #[arg(long)]
        admin_email: String,
        /// The Admin's display name.
        #[arg(long, default_value = "Administrator")]
        admin_name: String,
        /// Read the Admin's password from this file instead of generating one.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Applies database migrations and exits.
    Migrate,
    /// Prints the OpenAPI document.
    Openapi,
    /// Token-signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Measures the token endpoint: starts a server process over a temporary database,
    /// registers clients through the API, and drives POST /oauth/token from keep-alive
    /// connections; prints tokens/s, latency percentiles, errors and the server's memory.
    Bench(bench::BenchArgs),
    /// Exits 0 if the service at --url answers its health check.
    Healthcheck {
        /// Base URL of the service.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOLLGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    Store::connect(&config.database_url(), 2)
        .await
        .context("opening the database")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref(), std::env::vars())?;
    match cli.command {
        Command::Serve { no_bootstrap } => {
            init_tracing(&config);
            let app = Application::build(config).await?;
            let store = app.state().store.clone();
            let base = app.state().public_url.clone();
            if !no_bootstrap && store.count_orgs().await? == 0 {
                let password = tollgate_server::password::generate();
                let email = "admin@tollgate.local";
                bootstrap::create_org(
                    &store,
                    "Default organization",
                    email,
                    "Administrator",
                    &password,
                )
                .await?;
                println!("Created the first organization and its Admin (shown once; change it after signing in):");
                println!("  email:    {email}");
                println!("  password: {password}");
                println!("Sign in: curl -s -X POST {base}/api/v1/sessions -H 'content-type: application/json' -d '{{\"email\":\"{email}\",\"password\":\"<password>\"}}'");
            }
            tracing::info!(url = %base, database = store.engine(), "Tollgate is listening");
            println!("Tollgate is listening on {base} (API reference: {base}/api/openapi.json)");
            app.run_until(shutdown_signal()).await?;
        }
        Command::Init {
            org,
            admin_email,
            admin_name,
            password_file,
        } => {
            let store = open_store(&config).await?;
            let (password, generated) = match password_file {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    (text.trim_end_matches(['\n', '\r']).to_owned(), false)
                }
                None => (tollgate_server::password::generate(), true),
            };
            let done =
                bootstrap::create_org(&store, &org, &admin_email, &admin_name, &password).await?;
            println!("organization: {}", done.org_id);
            println!(
                "admin:        {} ({})",
                done.admin_id,
                admin_email.trim().to_lowercase()
            );
            if generated {
                println!("password:     {password}   (shown once)");
            }
        }
        Command::Migrate => {
            let store = open_store(&config).await?;
            println!("migrations applied ({})", store.engine());
        }
        Command::Openapi => println!("{}", tollgate_server::openapi::json()),
        Command::Keys { command } => {
            let store = open_store(&config).await?;
            let master = MasterKey::load_or_create(&config)?;
            match command {
                KeysCommand::List => {
                    let now = chrono::Utc::now();
                    for k in store.list_signing_keys().await? {
                        let state = match k.retired_at {
                            Some(at) if at <= now => format!("retired {at}"),
                            Some(at) => format!("signing until {at}"),
                            None if k.activate_at > now => {
                                format!("published, signs from {}", k.activate_at)
                            }
                            None => "signing".to_owned(),
                        };
                        println!("{}  {:<6} created {}  {state}", k.kid, k.alg, k.created_at);
                    }
                }
                KeysCommand::Rotate { alg } => {
                    let alg = alg.unwrap_or_else(|| config.signing_alg.clone());
                    let delay = chrono::Duration::seconds(config.key_publish_delay_seconds);
                    let (kid, at) =
                        keys::rotate(&store, &master.signing_kek(), &alg, delay).await?;
                    println!("published key {kid} ({alg}); it signs from {at}");
                }
            }
        }
        Command::Bench(args) => {
            // Quiet unless TOLLGATE_LOG asks: per-request logging is not what is measured.
            let filter = tracing_subscriber::EnvFilter::try_from_env("TOLLGATE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .init();
            bench::run(config, cli.config.as_deref(), args).await?;
        }
        Command::Healthcheck { url } => {
            let url = format!("{}/healthz", url.trim_end_matches('/'));
            let response = reqwest::Client::new()
                .get(&url)
                .timeout(std::time::Duration::from_secs(5))
                .send()
                .await
                .with_context(|| format!("GET {url}"))?;
            if !response.status().is_success() {
                bail!("{url} answered {}", response.status());
            }
            println!("ok");
        }
    }
    Ok(())
}
