//! Loads the demo data set into a server: the accounts the demo app signs in with, and the
//! customers, equipment, templates, parts and work orders of `fieldbook-demo`.

use chrono::{DateTime, Utc};
use fieldbook_demo::{DemoOptions, generate};
use fieldbook_domain::User;
use fieldbook_protocol::{PartCatalogEntry, UserInfo};
use fieldbook_server_db::{Database, DbError, ReferenceBatch, UserRecord};

/// The demo accounts: the supervisor `supervisor` and technicians `tech1` to `tech3`.
pub fn usernames() -> [&'static str; 4] {
    ["supervisor", "tech1", "tech2", "tech3"]
}

/// Loads `work_orders` demo work orders (spread over the three technicians) and the demo
/// accounts, all with `password`. A database that already has the demo accounts is left as
/// it is.
pub async fn load(
    db: &dyn Database,
    work_orders: usize,
    password: &str,
    now: DateTime<Utc>,
) -> Result<String, DbError> {
    let data = generate(&DemoOptions::new(work_orders, now));
    if db.user(data.supervisor.id).await?.is_some() {
        return Ok("the demo data is already loaded; nothing changed".to_owned());
    }
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
        .await
        .map_err(|e| DbError::Backend(e.to_string()))?;
    let account = |user: &User, username: &str, supervisor: Option<&User>| UserRecord {
        info: UserInfo {
            id: user.id,
            username: username.to_owned(),
            name: user.name.clone(),
            staff_no: user.staff_no.clone(),
            role: user.role,
            supervisor_id: supervisor.map(|s| s.id),
            disabled: false,
        },
        password_hash: hash.clone(),
    };
    let mut accounts = vec![account(&data.supervisor, "supervisor", None)];
    for (i, technician) in data.technicians.iter().enumerate() {
        accounts.push(account(technician, usernames()[i + 1], Some(&data.supervisor)));
    }
    for record in accounts {
        db.create_user(record).await?;
    }
    let batch = &data.batch;
    db.import(ReferenceBatch {
        policies: batch.policies.clone(),
        customers: batch.customers.clone(),
        sites: batch.sites.clone(),
        assets: batch.assets.clone(),
        templates: batch.templates.clone(),
        parts: batch
            .parts_catalog
            .iter()
            .map(|(number, name, approval, price)| PartCatalogEntry {
                part_number: number.clone(),
                name: name.clone(),
                needs_customer_approval: *approval,
                unit_price_cents: *price,
            })
            .collect(),
        work_orders: batch.work_orders.clone(),
    })
    .await?;
    Ok(format!(
        "demo data: {} work orders, {} customers; accounts {} (password as given)",
        batch.work_orders.len(),
        batch.customers.len(),
        usernames().join(", ")
    ))
}
