//! Periodic duties: schedules and the work orders of their due dates (see
//! `fieldbook_domain::schedule` for the rules). `schedule_runs` holds one row per due date
//! created, keyed by schedule and due date, so a due date is created once however often, or
//! however concurrently, the schedules run.

use chrono::{DateTime, Utc};
use fieldbook_domain::schedule::{PatrolSchedule, duty_text};
use fieldbook_domain::{Role, ScheduleId, UserId, WorkOrder};
use fieldbook_server_db::{DbError, DbResult};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::{SqlResult, from_json, millis, to_json};
use crate::work_orders::{self, Loader};

/// Checks what a schedule names: the site is the customer's, the equipment on the site, the
/// checklist and the assignee (an active technician) exist.
fn check(conn: &Connection, schedule: &PatrolSchedule) -> DbResult<()> {
    schedule.validate()?;
    let mut loader = Loader::new(conn);
    loader
        .customer(schedule.customer_id)?
        .ok_or_else(|| DbError::NotFound { what: "customer", id: schedule.customer_id.to_string() })?;
    if let Some(problem) =
        loader.place_error_of(schedule.customer_id, schedule.site_id, schedule.asset_id, schedule.template_id)?
    {
        return Err(DbError::Conflict(problem));
    }
    if let Some(assignee) = schedule.assignee {
        let user =
            loader.user(assignee)?.ok_or_else(|| DbError::NotFound { what: "user", id: assignee.to_string() })?;
        if user.role != Role::Technician || user.disabled {
            return Err(DbError::Conflict(format!("{} is not an active technician", user.name)));
        }
    }
    Ok(())
}

pub(crate) fn create(conn: &Connection, schedule: PatrolSchedule) -> DbResult<(PatrolSchedule, Vec<WorkOrder>)> {
    check(conn, &schedule)?;
    conn.execute(
        "INSERT INTO schedules (id, customer_id, site_id, assignee_id, active, created_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            schedule.id.to_string(),
            schedule.customer_id.to_string(),
            schedule.site_id.to_string(),
            schedule.assignee.map(|a| a.to_string()),
            schedule.active,
            millis(schedule.created_at),
            to_json(&schedule)?,
        ],
    )
    .map_err(|e| crate::codec::sql_unique(e, |_| Some(format!("schedule {} already exists", schedule.id))))?;
    let created = run_one(conn, &schedule, schedule.created_at)?;
    Ok((schedule, created))
}

pub(crate) fn load(conn: &Connection, id: ScheduleId) -> DbResult<Option<PatrolSchedule>> {
    conn.query_row("SELECT body FROM schedules WHERE id = ?1", [id.to_string()], |r| r.get::<_, String>(0))
        .optional()
        .db()?
        .map(|body| from_json(&body))
        .transpose()
}

pub(crate) fn list(conn: &Connection, team_of: Option<UserId>) -> DbResult<Vec<PatrolSchedule>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT body FROM schedules
             WHERE ?1 IS NULL OR assignee_id IS NULL
                OR assignee_id IN (SELECT id FROM users WHERE supervisor_id = ?1)
             ORDER BY created_at DESC, id",
        )
        .db()?;
    let bodies = stmt
        .query_map([team_of.map(|t| t.to_string())], |r| r.get::<_, String>(0))
        .db()?
        .collect::<Result<Vec<_>, _>>()
        .db()?;
    bodies.iter().map(|body| from_json(body)).collect()
}

pub(crate) fn set_active(
    conn: &Connection,
    id: ScheduleId,
    active: bool,
    at: DateTime<Utc>,
) -> DbResult<(PatrolSchedule, Vec<WorkOrder>)> {
    let mut schedule = load(conn, id)?.ok_or_else(|| DbError::NotFound { what: "schedule", id: id.to_string() })?;
    schedule.active = active;
    conn.execute(
        "UPDATE schedules SET active = ?2, body = ?3 WHERE id = ?1",
        params![id.to_string(), active, to_json(&schedule)?],
    )
    .db()?;
    let created = run_one(conn, &schedule, at)?;
    Ok((schedule, created))
}

/// Creates every due work order of every active schedule.
pub(crate) fn run_all(conn: &Connection, now: DateTime<Utc>) -> DbResult<Vec<WorkOrder>> {
    let mut stmt = conn.prepare_cached("SELECT body FROM schedules WHERE active = 1 ORDER BY created_at, id").db()?;
    let bodies = stmt.query_map([], |r| r.get::<_, String>(0)).db()?.collect::<Result<Vec<_>, _>>().db()?;
    let mut created = Vec::new();
    for body in bodies {
        let schedule: PatrolSchedule = from_json(&body)?;
        created.extend(run_one(conn, &schedule, now)?);
    }
    Ok(created)
}

/// Creates the due work orders of one schedule that do not exist yet.
fn run_one(conn: &Connection, schedule: &PatrolSchedule, now: DateTime<Utc>) -> DbResult<Vec<WorkOrder>> {
    let due = schedule.due_by(now);
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let policy = {
        let mut loader = Loader::new(conn);
        let customer = loader
            .customer(schedule.customer_id)?
            .ok_or_else(|| DbError::NotFound { what: "customer", id: schedule.customer_id.to_string() })?;
        let policy_id = customer.policy_id;
        loader
            .policy(policy_id)?
            .cloned()
            .ok_or_else(|| DbError::NotFound { what: "service policy", id: policy_id.to_string() })?
    };
    let symptom = duty_text(schedule.kind, schedule.every);
    let mut created = Vec::new();
    for at in due {
        let exists: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM schedule_runs WHERE schedule_id = ?1 AND due_at = ?2)",
                params![schedule.id.to_string(), millis(at)],
                |r| r.get(0),
            )
            .db()?;
        if exists {
            continue;
        }
        let work_order = work_orders::create(conn, schedule.work_order(at, &policy, &symptom))?;
        conn.execute(
            "INSERT INTO schedule_runs (schedule_id, due_at, work_order_id) VALUES (?1, ?2, ?3)",
            params![schedule.id.to_string(), millis(at), work_order.id.to_string()],
        )
        .db()?;
        created.push(work_order);
    }
    Ok(created)
}
