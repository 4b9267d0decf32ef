//! Fieldbook's central server: devices enroll and sync here, supervisors create, assign and
//! review work here. A library with [`router`] and [`serve`] so tests bind port 0 and drive
//! the real thing; `src/main.rs` is the `fieldbook-server` command.
//!
//! Architecture invariant: handlers see storage only through `fieldbook_server_db::Database`;
//! authorization is decided in `authz.rs` alone.

pub mod auth;
pub mod authz;
pub mod config;
pub mod demo;
pub mod error;
mod extract;
pub mod import;
mod observe;
mod routes;
pub mod verify;

pub use routes::new_user_record;

use std::sync::Arc;

use axum::Router;
use fieldbook_domain::Clock;
use fieldbook_server_db::Database;
use tokio::net::TcpListener;

pub use config::Config;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Arc<dyn Database>,
    pub clock: Arc<dyn Clock>,
    pub login_limits: Arc<auth::LoginLimits>,
    pub config: Arc<Config>,
}

impl AppState {
    pub fn new(db: Arc<dyn Database>, clock: Arc<dyn Clock>, config: Config) -> Self {
        AppState {
            db,
            clock,
            login_limits: Arc::new(auth::LoginLimits::new(config.login_attempts_per_minute)),
            config: Arc::new(config),
        }
    }
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    routes::router(state)
}

/// The OpenAPI document of the API, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Serves until `shutdown` resolves, then stops accepting and lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let schedules = tokio::spawn(run_schedules_every(state.clone(), SCHEDULE_INTERVAL));
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    schedules.abort();
    served
}

/// How often the periodic duties are run: due dates are days apart and work orders are made
/// days ahead, so a quarter of an hour is prompt enough.
pub const SCHEDULE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Creates the scheduled work orders now due, at start and then every `interval`. A failed
/// run is logged and tried again at the next tick; nothing is created twice.
pub async fn run_schedules_every(state: AppState, interval: std::time::Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match state.db.run_schedules(state.clock.now()).await {
            Ok(created) if !created.is_empty() => {
                tracing::info!(created = created.len(), "scheduled work orders created");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "running the schedules failed; trying again at the next tick"),
        }
    }
}
