//! Loads the demo data set into a server: the accounts the demo app signs in with, and the
//! customers, equipment, templates, parts and work orders of `fieldbook-demo`.

use chrono::{DateTime, Utc};
use fieldbook_demo::{DemoOptions, generate};
use fieldbook_domain::schedule::{PatrolSchedule, Recurrence};
use fieldbook_domain::{Contact, ScheduleId, User, WorkOrderKind};
use fieldbook_protocol::{PartCatalogEntry, UserInfo};
use fieldbook_server_db::{Database, DbError, ReferenceBatch, UserRecord};

/// The demo accounts: the supervisor `supervisor` and technicians `tech1` to `tech3`.
pub fn usernames() -> [&'static str; 4] {
    ["supervisor", "tech1", "tech2", "tech3"]
}

/// Loads `work_orders` demo work orders (spread over the three technicians), two periodic
/// duties and the demo accounts, all with `password`. A database that already has the demo accounts is left as
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
    // Two periodic duties, due beyond their lead so that loading makes no work order yet: a
    // monthly patrol for the first technician and a quarterly maintenance for the board.
    for (i, (kind, every, days)) in
        [(WorkOrderKind::Patrol, Recurrence::Monthly, 20), (WorkOrderKind::Maintenance, Recurrence::Quarterly, 45)]
            .into_iter()
            .enumerate()
    {
        let site = &batch.sites[i % batch.sites.len()];
        let template = batch.templates.iter().find(|t| t.code == "patrol.general");
        db.create_schedule(PatrolSchedule {
            id: ScheduleId::from_uuid(uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0003_0000 | i as u128)),
            customer_id: site.customer_id,
            site_id: site.id,
            asset_id: batch.assets.iter().find(|a| a.site_id == site.id).map(|a| a.id),
            kind,
            template_id: template.map(|t| t.id),
            every,
            first_due: now + chrono::Duration::days(days),
            lead_days: 14,
            assignee: (i == 0).then(|| data.technicians[0].id),
            contact: Contact { name: "物业值班室".into(), phone: "0571-88000000".into() },
            instructions: fieldbook_domain::schedule::duty_text(kind, every),
            active: true,
            created_at: now,
        })
        .await?;
    }
    Ok(format!(
        "demo data: {} work orders, {} customers; accounts {} (password as given)",
        batch.work_orders.len(),
        batch.customers.len(),
        usernames().join(", ")
    ))
}
