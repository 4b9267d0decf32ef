//! `fieldbook-server`: run the server and administer it.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use fieldbook_domain::Role;
use fieldbook_protocol::CreateUser;
use fieldbook_server::{AppState, Config, SystemClock};
use fieldbook_server_db::Database;
use fieldbook_server_sqlite::SqliteDatabase;

/// Fieldbook's central server: the sync hub for technicians' devices and the supervisors' API.
///
/// Configuration comes from defaults, then the TOML file given with --config (keys: listen,
/// database, max_body_bytes, login_attempts_per_minute, log_json, pull_stream_budget_ms), then
/// FIELDBOOK_* environment variables, then flags. Logs go to stderr; RUST_LOG sets the level
/// (default info).
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// A TOML configuration file.
    #[arg(long, global = true, env = "FIELDBOOK_CONFIG")]
    config: Option<PathBuf>,
    /// The SQLite database file (overrides the file's `database`).
    #[arg(long, global = true, env = "FIELDBOOK_DATABASE")]
    database: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API until interrupted (Ctrl-C or SIGTERM finish requests in flight first).
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8330 (overrides the file's `listen`).
        #[arg(long, env = "FIELDBOOK_LISTEN")]
        listen: Option<std::net::SocketAddr>,
        /// Log as JSON lines.
        #[arg(long, env = "FIELDBOOK_LOG_JSON")]
        log_json: bool,
        /// Largest JSON request body in bytes (overrides the file's `max_body_bytes`).
        #[arg(long, env = "FIELDBOOK_MAX_BODY_BYTES")]
        max_body_bytes: Option<usize>,
        /// Sign-in attempts per account per minute (overrides `login_attempts_per_minute`).
        #[arg(long, env = "FIELDBOOK_LOGIN_ATTEMPTS_PER_MINUTE")]
        login_attempts_per_minute: Option<u32>,
        /// Milliseconds after which a pull stream begins no new page (overrides
        /// `pull_stream_budget_ms`).
        #[arg(long, env = "FIELDBOOK_PULL_STREAM_BUDGET_MS")]
        pull_stream_budget_ms: Option<u64>,
    },
    /// Create the database and the first admin account.
    Init {
        #[arg(long, default_value = "admin")]
        admin_username: String,
        /// The admin's password (at least 8 characters).
        #[arg(long, env = "FIELDBOOK_ADMIN_PASSWORD")]
        admin_password: String,
        #[arg(long, default_value = "Administrator")]
        admin_name: String,
    },
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage enrolled devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Import customers, sites, equipment, work orders and parts from CSV files (UTF-8, header
    /// row). Every row is checked first; if any is wrong, each error is listed with its file,
    /// line and column, and nothing is written. Importing the same rows again changes nothing.
    #[command(after_help = fieldbook_server::import::FORMAT_HELP)]
    Import {
        #[arg(long)]
        customers: Option<PathBuf>,
        #[arg(long)]
        sites: Option<PathBuf>,
        #[arg(long)]
        assets: Option<PathBuf>,
        #[arg(long)]
        work_orders: Option<PathBuf>,
        #[arg(long)]
        parts: Option<PathBuf>,
    },
    /// Check a signed visit report: a PDF exported by Fieldbook (it carries its signed report),
    /// or a report's hash (at least 8 hex digits) or short code. Says whether the report is
    /// intact, who signed it, on which device and when, and whether the ledger holds it; exits
    /// with status 1 when it is not intact.
    Verify {
        /// A report PDF, a report hash, or a short code such as 3F2A-9C41.
        report: String,
        /// Also recompute the whole ledger's hash chain.
        #[arg(long)]
        ledger: bool,
    },
    /// Load the demo data set: a supervisor (supervisor), three technicians (tech1..tech3),
    /// customers, sites, equipment, checklist templates, parts and work orders.
    Demo {
        /// Work orders in all (10 to 100,000), spread over the three technicians.
        #[arg(long, default_value_t = 180, value_parser = clap::value_parser!(u32).range(10..=100_000))]
        work_orders: u32,
        /// The password of every demo account.
        #[arg(long, env = "FIELDBOOK_DEMO_PASSWORD", default_value = "fieldbook-demo")]
        password: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long, env = "FIELDBOOK_USER_PASSWORD")]
        password: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        staff_no: String,
        /// technician, supervisor or admin.
        #[arg(long)]
        role: String,
        /// The user name of a technician's supervisor.
        #[arg(long)]
        supervisor: Option<String>,
    },
    /// List accounts.
    List,
    /// Disable an account; its devices stop syncing at once.
    Disable { username: String },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// List devices with their last sync.
    List,
    /// Revoke a device (a lost tablet).
    Revoke { id: String },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(database) = cli.database {
        config.database = database;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(cli.command, config))
}

async fn open(config: &Config) -> anyhow::Result<Arc<dyn Database>> {
    let db = SqliteDatabase::open(&config.database)
        .with_context(|| format!("opening the database {}", config.database.display()))?;
    Ok(Arc::new(db))
}

fn state(db: Arc<dyn Database>, config: Config) -> AppState {
    AppState::new(db, Arc::new(SystemClock), config)
}

async fn run(command: Command, mut config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { listen, log_json, max_body_bytes, login_attempts_per_minute, pull_stream_budget_ms } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            if let Some(bytes) = max_body_bytes {
                config.max_body_bytes = bytes;
            }
            if let Some(attempts) = login_attempts_per_minute {
                config.login_attempts_per_minute = attempts;
            }
            if let Some(ms) = pull_stream_budget_ms {
                config.pull_stream_budget_ms = ms;
            }
            config.log_json |= log_json;
            init_logging(config.log_json);
            let db = open(&config).await?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("listening on {}", config.listen))?;
            tracing::info!(address = %listener.local_addr()?, database = %config.database.display(), "serving");
            fieldbook_server::serve(listener, state(db, config), shutdown_signal()).await?;
            tracing::info!("stopped");
        }
        Command::Init { admin_username, admin_password, admin_name } => {
            let db = open(&config).await?;
            if !db.users().await?.is_empty() {
                bail!("{} already has accounts; use `user add`", config.database.display());
            }
            let state = state(db.clone(), config.clone());
            let request = CreateUser {
                username: admin_username,
                password: admin_password,
                name: admin_name,
                staff_no: "ADMIN".into(),
                role: Role::Admin,
                supervisor_id: None,
            };
            let user =
                fieldbook_server::new_user_record(&state, request).await.map_err(|e| anyhow::anyhow!(e.message))?;
            let info = db.create_user(user).await?;
            println!("created {} and the admin account '{}'", config.database.display(), info.username);
        }
        Command::User(UserCommand::Add { username, password, name, staff_no, role, supervisor }) => {
            let db = open(&config).await?;
            let role: Role = role.parse().map_err(|e: fieldbook_domain::InvalidInput| anyhow::anyhow!(e))?;
            let supervisor_id = match supervisor {
                Some(name) => {
                    Some(db.user_by_username(&name).await?.with_context(|| format!("no user '{name}'"))?.info.id)
                }
                None => None,
            };
            let state = state(db.clone(), config);
            let request = CreateUser { username, password, name, staff_no, role, supervisor_id };
            let user =
                fieldbook_server::new_user_record(&state, request).await.map_err(|e| anyhow::anyhow!(e.message))?;
            let info = db.create_user(user).await?;
            println!("added {} ({}, {})", info.username, info.name, info.role);
        }
        Command::User(UserCommand::List) => {
            let db = open(&config).await?;
            for u in db.users().await? {
                let state = if u.disabled { "disabled" } else { "active" };
                println!("{:<16} {:<12} {:<10} {:<10} {}", u.username, u.staff_no, u.role, state, u.name);
            }
        }
        Command::User(UserCommand::Disable { username }) => {
            let db = open(&config).await?;
            let user = db.user_by_username(&username).await?.with_context(|| format!("no user '{username}'"))?;
            db.set_user_disabled(user.info.id, true).await?;
            println!("disabled {username}");
        }
        Command::Device(DeviceCommand::List) => {
            let db = open(&config).await?;
            for d in db.devices().await? {
                let last = d.last_sync_at.map_or("never".to_owned(), |t| t.to_rfc3339());
                let state = if d.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}  {:<10} {:<8} last sync {:<32} {}", d.id, d.user_name, state, last, d.name);
            }
        }
        Command::Device(DeviceCommand::Revoke { id }) => {
            let db = open(&config).await?;
            db.revoke_device(&id, chrono::Utc::now()).await?;
            println!("revoked {id}");
        }
        Command::Import { customers, sites, assets, work_orders, parts } => {
            let files = fieldbook_server::import::ImportFiles { customers, sites, assets, work_orders, parts };
            if [&files.customers, &files.sites, &files.assets, &files.work_orders, &files.parts]
                .iter()
                .all(|f| f.is_none())
            {
                bail!("name at least one file to import (--customers, --sites, --assets, --work-orders, --parts)");
            }
            let db = open(&config).await?;
            match fieldbook_server::import::import_csv(db.as_ref(), &files, chrono::Utc::now()).await {
                Ok(report) => println!("{report}"),
                Err(failure) => bail!("nothing was imported:\n{failure}"),
            }
        }
        Command::Verify { report, ledger } => {
            let db = open(&config).await?;
            let intact = fieldbook_server::verify::run(db.as_ref(), &report, ledger).await?;
            if !intact {
                std::process::exit(1);
            }
        }
        Command::Demo { work_orders, password } => {
            let db = open(&config).await?;
            let summary =
                fieldbook_server::demo::load(db.as_ref(), work_orders as usize, &password, chrono::Utc::now()).await?;
            println!("{summary}");
        }
    }
    Ok(())
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
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
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
