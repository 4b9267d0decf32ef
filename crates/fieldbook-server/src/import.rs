//! Bulk import of customers, sites, equipment, parts and work orders from CSV files
//! (`fieldbook-server import`), as an office exports them from Excel or an older system.
//!
//! Every file is optional; each has a header row naming its columns, in any order (columns
//! marked *optional* may be left out). Files are UTF-8, with or without the byte-order mark
//! Excel writes ("CSV UTF-8"); a file saved in GBK is refused with a note on how to save it.
//! Text is trimmed; rows whose cells are all empty are skipped.
//!
//! | file | columns |
//! |---|---|
//! | customers.csv | [`CUSTOMERS_HEADER`] |
//! | sites.csv | [`SITES_HEADER`] |
//! | assets.csv | [`ASSETS_HEADER`] |
//! | parts.csv | [`PARTS_HEADER`] |
//! | work_orders.csv | [`WORK_ORDERS_HEADER`] |
//!
//! - **customers.csv** — `key`: the importer's own reference for the customer, used by the
//!   other files (≤ 100 characters, unique in the file); `name` (≤ 200); `address` (optional,
//!   ≤ 500); `policy` (optional): the service policy by its Chinese or English name or its id,
//!   empty for the first policy.
//! - **sites.csv** — `key` (unique); `customer`: a key from customers.csv, a key imported
//!   before, an existing customer's exact name, or its id; `name` (≤ 200); `address`
//!   (optional).
//! - **assets.csv** — `key` (unique); `site`: a key from sites.csv, a key imported before, or
//!   a site id; `model` (≤ 200); `serial` (optional, ≤ 128); `location` (optional, ≤ 200);
//!   `warranty_end` (optional): `YYYY-MM-DD` (or `YYYY/M/D`, as Excel rewrites dates).
//! - **parts.csv** — `part_number` (≤ 64, unique); `name` (≤ 200);
//!   `needs_customer_approval` (optional): `true`/`false`, `yes`/`no`, `是`/`否`, empty for
//!   no; `unit_price`: yuan with at most two decimals, e.g. `45.00` or `45` (4500 fen).
//! - **work_orders.csv** — `customer` and `site` as above (the site must be the customer's);
//!   `asset` (optional): an asset key at that site; `contact_name` (≤ 100), `contact_phone`
//!   (≤ 40); `kind`: `维修`/`巡检`/`保养`/`安装调试`/`回访` or
//!   `repair`/`patrol`/`maintenance`/`installation`/`return_visit`; `fault_level`:
//!   `一级`/`二级`/`三级` or `critical`/`major`/`minor`; `symptom` (≤ 4000); `reported_by`
//!   (≤ 200); `reported_at`: RFC 3339 (`2026-11-20T09:30:00+08:00`) or `YYYY-MM-DD HH:MM`
//!   in the customer's policy time zone, not in the future; `assignee` (optional): the user
//!   name of an enabled technician — the work order is then `assigned`, otherwise `new`;
//!   `billing`: `三包`/`合同`/`有偿` or `warranty`/`contract`/`paid`; `instructions`
//!   (optional, ≤ 4000). Deadlines follow from the report time, the fault level and the
//!   customer's service policy, exactly as for a work order recorded through the API.
//!
//! **All or nothing.** Every row of every file is checked first and every problem is
//! collected ([`ImportFailure`], one [`RowError`] per problem with file, line and column);
//! if there is any, nothing is written. Otherwise a single [`Database::import`] call writes
//! everything in one transaction.
//!
//! **Importing again is safe.** Ids are derived from the importer's keys (customers, sites,
//! assets) and from what identifies a call (work orders: customer, site, asset, kind,
//! symptom, reported by, reported at), so a file imported twice names the same records: rows
//! already stored unchanged are skipped, customers, sites, assets and parts whose row changed
//! are updated, and a work order already imported is left as it stands (it may be in
//! progress; change it in Fieldbook, not by importing). [`ImportReport`] counts each case.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use fieldbook_domain::{
    Asset, AssetId, BillingBasis, Contact, Customer, CustomerId, FaultLevel, Role, ServicePolicy, Site, SiteId, UserId,
    WorkOrder, WorkOrderId, WorkOrderKind, WorkOrderStatus,
};
use fieldbook_protocol::PartCatalogEntry;
use fieldbook_server_db::{Database, DbError, ReferenceBatch};
use sha2::{Digest, Sha256};

/// The header of customers.csv.
pub const CUSTOMERS_HEADER: &str = "key,name,address,policy";
/// The header of sites.csv.
pub const SITES_HEADER: &str = "key,customer,name,address";
/// The header of assets.csv.
pub const ASSETS_HEADER: &str = "key,site,model,serial,location,warranty_end";
/// The header of parts.csv.
pub const PARTS_HEADER: &str = "part_number,name,needs_customer_approval,unit_price";
/// The header of work_orders.csv.
pub const WORK_ORDERS_HEADER: &str = "customer,site,asset,contact_name,contact_phone,kind,fault_level,symptom,reported_by,reported_at,assignee,billing,instructions";

/// The formats in short, for `--help`.
pub const FORMAT_HELP: &str = "\
CSV files, UTF-8 (Excel: CSV UTF-8), a header row, columns in any order.
customers.csv:   key,name,address,policy
  key = your own reference used by the other files; policy = policy name (zh/en) or id, empty = first policy
sites.csv:       key,customer,name,address
  customer = customer key, or an existing customer's exact name
assets.csv:      key,site,model,serial,location,warranty_end
  site = site key; warranty_end = YYYY-MM-DD or empty
parts.csv:       part_number,name,needs_customer_approval,unit_price
  needs_customer_approval = true/false/yes/no/是/否; unit_price = yuan, e.g. 45.00
work_orders.csv: customer,site,asset,contact_name,contact_phone,kind,fault_level,symptom,reported_by,reported_at,assignee,billing,instructions
  kind = 维修/巡检/保养/安装调试/回访 (repair/patrol/maintenance/installation/return_visit)
  fault_level = 一级/二级/三级 (critical/major/minor); billing = 三包/合同/有偿 (warranty/contract/paid)
  reported_at = YYYY-MM-DD HH:MM in the customer's time zone, or RFC 3339
  assignee = a technician's user name, or empty for an unassigned (new) work order
All rows are checked first; if any is wrong nothing is imported. Importing the same rows again changes nothing.";

/// The columns of each file; `true` marks those the header must have.
const CUSTOMER_COLUMNS: &[(&str, bool)] = &[("key", true), ("name", true), ("address", false), ("policy", false)];
const SITE_COLUMNS: &[(&str, bool)] = &[("key", true), ("customer", true), ("name", true), ("address", false)];
const ASSET_COLUMNS: &[(&str, bool)] =
    &[("key", true), ("site", true), ("model", true), ("serial", false), ("location", false), ("warranty_end", false)];
const PART_COLUMNS: &[(&str, bool)] =
    &[("part_number", true), ("name", true), ("needs_customer_approval", false), ("unit_price", true)];
const WORK_ORDER_COLUMNS: &[(&str, bool)] = &[
    ("customer", true),
    ("site", true),
    ("asset", false),
    ("contact_name", true),
    ("contact_phone", true),
    ("kind", true),
    ("fault_level", true),
    ("symptom", true),
    ("reported_by", true),
    ("reported_at", true),
    ("assignee", false),
    ("billing", true),
    ("instructions", false),
];

/// How far in the future a report time may be (clocks differ).
const FUTURE_TOLERANCE_MINUTES: i64 = 10;
/// The most [`ImportFailure`]'s `Display` lists; `errors` holds them all.
const ERRORS_SHOWN: usize = 200;

/// The files to import; any may be left out.
#[derive(Debug, Clone, Default)]
pub struct ImportFiles {
    pub customers: Option<PathBuf>,
    pub sites: Option<PathBuf>,
    pub assets: Option<PathBuf>,
    pub work_orders: Option<PathBuf>,
    pub parts: Option<PathBuf>,
}

/// What became of the rows of one file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Rows stored as new records.
    pub created: usize,
    /// Rows of a key (or part number) stored before, whose stored record they changed.
    pub updated: usize,
    /// Rows already stored as they are (for work orders: already imported, left as they stand).
    pub unchanged: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.created + self.updated + self.unchanged
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} new, {} updated, {} unchanged", self.created, self.updated, self.unchanged)
    }
}

/// What an import stored, per file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub customers: Counts,
    pub sites: Counts,
    pub assets: Counts,
    pub parts: Counts,
    pub work_orders: Counts,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "customers:   {}", self.customers)?;
        writeln!(f, "sites:       {}", self.sites)?;
        writeln!(f, "assets:      {}", self.assets)?;
        writeln!(f, "parts:       {}", self.parts)?;
        write!(f, "work orders: {}", self.work_orders)
    }
}

/// One problem in one cell (or row, or file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The file's name, e.g. `work_orders.csv`.
    pub file: String,
    /// 1-based, the header being line 1; 0 for a problem with the whole file.
    pub line: u64,
    /// The column, or empty for a problem with the whole row or file.
    pub column: String,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column.is_empty()) {
            (0, _) => write!(f, "{}: {}", self.file, self.message),
            (line, true) => write!(f, "{} line {line}: {}", self.file, self.message),
            (line, false) => write!(f, "{} line {line}, {}: {}", self.file, self.column, self.message),
        }
    }
}

/// Why nothing was imported: the problems found in the files, or (with none) the storage
/// failing on the way.
#[derive(Debug)]
pub struct ImportFailure {
    pub errors: Vec<RowError>,
    /// The database failed while checking references or writing; nothing was written.
    pub storage: Option<DbError>,
}

impl fmt::Display for ImportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(error) = &self.storage {
            return write!(f, "nothing was imported: the database failed: {error}");
        }
        let n = self.errors.len();
        write!(
            f,
            "nothing was imported: {n} problem{} to fix, then run the import again:",
            if n == 1 { "" } else { "s" }
        )?;
        for error in self.errors.iter().take(ERRORS_SHOWN) {
            write!(f, "\n  {error}")?;
        }
        if n > ERRORS_SHOWN {
            write!(f, "\n  … and {} more", n - ERRORS_SHOWN)?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportFailure {}

impl From<DbError> for ImportFailure {
    fn from(error: DbError) -> Self {
        ImportFailure { errors: Vec::new(), storage: Some(error) }
    }
}

/// Checks every row of `files` and, if all are right, imports them in one transaction.
/// `now` is the clock: report times after it are refused.
pub async fn import_csv(
    db: &dyn Database,
    files: &ImportFiles,
    now: DateTime<Utc>,
) -> Result<ImportReport, ImportFailure> {
    let mut importer = Importer {
        db,
        now,
        errors: Vec::new(),
        policies: db.policies().await?,
        existing_customers: db.customers().await?,
        customers: HashMap::new(),
        sites: HashMap::new(),
        assets: HashMap::new(),
        customer_cache: HashMap::new(),
        site_cache: HashMap::new(),
        asset_cache: HashMap::new(),
        users: HashMap::new(),
        batch: ReferenceBatch::default(),
        unreadable: Unreadable::default(),
    };
    // File by file, in the order their keys are used; each file's problems by line.
    if let Some(table) = importer.read(&files.customers, CUSTOMER_COLUMNS, |u| &mut u.customers) {
        importer.customers(&table);
    }
    importer.sort_last_file();
    if let Some(table) = importer.read(&files.sites, SITE_COLUMNS, |u| &mut u.sites) {
        importer.sites(&table).await?;
    }
    importer.sort_last_file();
    if let Some(table) = importer.read(&files.assets, ASSET_COLUMNS, |u| &mut u.assets) {
        importer.assets(&table).await?;
    }
    importer.sort_last_file();
    if let Some(table) = importer.read(&files.parts, PART_COLUMNS, |u| &mut u.parts) {
        importer.parts(&table);
    }
    importer.sort_last_file();
    if let Some(table) = importer.read(&files.work_orders, WORK_ORDER_COLUMNS, |u| &mut u.work_orders) {
        importer.work_orders(&table).await?;
    }
    importer.sort_last_file();
    if !importer.errors.is_empty() {
        return Err(ImportFailure { errors: importer.errors, storage: None });
    }
    let (batch, report) = keep_what_changed(db, importer.batch).await?;
    let writes =
        batch.customers.len() + batch.sites.len() + batch.assets.len() + batch.parts.len() + batch.work_orders.len();
    if writes > 0 {
        db.import(batch).await?;
    }
    Ok(report)
}

/// Drops what is already stored as it is (and every work order already stored), and counts.
async fn keep_what_changed(
    db: &dyn Database,
    batch: ReferenceBatch,
) -> Result<(ReferenceBatch, ImportReport), DbError> {
    fn count<T: PartialEq>(counts: &mut Counts, stored: Option<T>, new: &T) -> bool {
        match stored {
            None => counts.created += 1,
            Some(stored) if stored == *new => {
                counts.unchanged += 1;
                return false;
            }
            Some(_) => counts.updated += 1,
        }
        true
    }
    let mut report = ImportReport::default();
    let mut kept = ReferenceBatch::default();
    for customer in batch.customers {
        if count(&mut report.customers, db.customer(customer.id).await?, &customer) {
            kept.customers.push(customer);
        }
    }
    for site in batch.sites {
        if count(&mut report.sites, db.site(site.id).await?, &site) {
            kept.sites.push(site);
        }
    }
    for asset in batch.assets {
        if count(&mut report.assets, db.asset(asset.id).await?, &asset) {
            kept.assets.push(asset);
        }
    }
    let mut stored_parts: HashMap<String, PartCatalogEntry> =
        db.parts().await?.into_iter().map(|p| (p.part_number.clone(), p)).collect();
    for part in batch.parts {
        if count(&mut report.parts, stored_parts.remove(&part.part_number), &part) {
            kept.parts.push(part);
        }
    }
    for work_order in batch.work_orders {
        if db.work_order(work_order.id).await?.is_some() {
            report.work_orders.unchanged += 1;
        } else {
            report.work_orders.created += 1;
            kept.work_orders.push(work_order);
        }
    }
    Ok((kept, report))
}

// ---------------------------------------------------------------------------------------------
// Reading files

struct Table {
    file: String,
    columns: &'static [(&'static str, bool)],
    rows: Vec<Row>,
}

struct Row {
    line: u64,
    /// One per column of the file's spec, trimmed; empty when the header leaves it out.
    values: Vec<String>,
}

/// Reads a file into rows, or records why it cannot be read and returns `None`.
fn read_table(path: &Path, columns: &'static [(&'static str, bool)], errors: &mut Vec<RowError>) -> Option<Table> {
    let file = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let mut fail = |line: u64, column: &str, message: String| {
        errors.push(RowError { file: file.clone(), line, column: column.to_owned(), message });
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            fail(0, "", format!("cannot read {}: {e}", path.display()));
            return None;
        }
    };
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if let Err(e) = std::str::from_utf8(text) {
        let line = text[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        fail(
            line,
            "",
            "the file is not UTF-8 text (probably GBK); in Excel use 另存为 / Save As → \
             \"CSV UTF-8 (逗号分隔)\" and import that file"
                .to_owned(),
        );
        return None;
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text);
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(header)) => header,
        Some(Err(e)) => {
            fail(1, "", format!("cannot read the header row: {e}"));
            return None;
        }
        None => {
            let expected: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
            fail(0, "", format!("the file is empty; it needs a header row: {}", expected.join(",")));
            return None;
        }
    };
    // Where each column of the spec is in the file.
    let mut positions: Vec<Option<usize>> = vec![None; columns.len()];
    let mut header_ok = true;
    for (index, name) in header.iter().enumerate() {
        let name = name.trim().to_lowercase();
        if name.is_empty() {
            continue;
        }
        match columns.iter().position(|(c, _)| *c == name) {
            Some(i) if positions[i].is_some() => {
                fail(1, &name, "this column appears twice in the header".to_owned());
                header_ok = false;
            }
            Some(i) => positions[i] = Some(index),
            None => {
                let known: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
                fail(1, &name, format!("unknown column; the columns are {}", known.join(",")));
                header_ok = false;
            }
        }
    }
    for ((name, required), position) in columns.iter().zip(&positions) {
        if *required && position.is_none() {
            fail(1, name, "this column is missing from the header row".to_owned());
            header_ok = false;
        }
    }
    if !header_ok {
        return None;
    }
    let width = header.len();
    let mut rows = Vec::new();
    // Lines counted here: the reader's own count lags a line after a CRLF line end.
    let mut lines = LineCounter { text, at: 0, line: 1 };
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                fail(line, "", format!("cannot read this row: {e}"));
                return None;
            }
        };
        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if record.len() > width {
            fail(
                line,
                "",
                format!(
                    "this row has {} cells but the header has {width}; put text that contains a comma in \"double quotes\"",
                    record.len()
                ),
            );
            continue;
        }
        let values = positions.iter().map(|p| p.and_then(|i| record.get(i)).unwrap_or("").trim().to_owned()).collect();
        rows.push(Row { line, values });
    }
    Some(Table { file, columns, rows })
}

/// The 1-based line of a record starting at a byte offset (offsets only grow).
struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        // A record's position may sit on the line end before it.
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.at {
            self.line += self.text[self.at..start].iter().filter(|&&b| b == b'\n').count() as u64;
            self.at = start;
        }
        self.line
    }
}

/// One row being checked: its cells and where its problems go.
struct Cells<'a> {
    table: &'a Table,
    row: &'a Row,
    errors: &'a mut Vec<RowError>,
}

impl<'a> Cells<'a> {
    fn get(&self, column: &str) -> &'a str {
        let index = self.table.columns.iter().position(|(c, _)| *c == column).expect("a column of this file");
        &self.row.values[index]
    }

    fn error(&mut self, column: &str, message: impl Into<String>) {
        self.errors.push(RowError {
            file: self.table.file.clone(),
            line: self.row.line,
            column: column.to_owned(),
            message: message.into(),
        });
    }

    /// Records `Err` as this column's problem.
    fn check<T>(&mut self, column: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.error(column, message)).ok()
    }

    fn required(&mut self, column: &str, max_chars: usize) -> Option<String> {
        let value = self.get(column);
        if value.is_empty() {
            self.error(column, "required, but empty");
            return None;
        }
        self.optional(column, max_chars)
    }

    fn optional(&mut self, column: &str, max_chars: usize) -> Option<String> {
        let value = self.get(column);
        let len = value.chars().count();
        if len > max_chars {
            self.error(column, format!("too long ({len} characters); keep it to {max_chars}"));
            return None;
        }
        Some(value.to_owned())
    }
}

// ---------------------------------------------------------------------------------------------
// Checking rows

#[derive(Clone)]
struct CustomerRef {
    id: CustomerId,
    /// Unknown when its policy could not be resolved (already reported).
    policy: Option<ServicePolicy>,
}

#[derive(Clone, Copy)]
struct SiteRef {
    id: SiteId,
    customer_id: Option<CustomerId>,
}

#[derive(Clone, Copy)]
struct AssetRef {
    id: AssetId,
    site_id: Option<SiteId>,
}

struct Importer<'a> {
    db: &'a dyn Database,
    now: DateTime<Utc>,
    errors: Vec<RowError>,
    policies: Vec<ServicePolicy>,
    existing_customers: Vec<Customer>,
    /// Keys of this import, with the line that defined them.
    customers: HashMap<String, (u64, CustomerRef)>,
    sites: HashMap<String, (u64, SiteRef)>,
    assets: HashMap<String, (u64, AssetRef)>,
    /// References resolved against what is stored.
    customer_cache: HashMap<String, Result<CustomerRef, String>>,
    site_cache: HashMap<String, Option<SiteRef>>,
    asset_cache: HashMap<String, Option<AssetRef>>,
    users: HashMap<String, Result<UserId, String>>,
    batch: ReferenceBatch,
    unreadable: Unreadable,
}

/// Files given but not readable (already reported): a key they would have defined is not
/// reported again where it is used.
#[derive(Default)]
struct Unreadable {
    customers: bool,
    sites: bool,
    assets: bool,
    parts: bool,
    work_orders: bool,
}

impl Importer<'_> {
    /// Reads one file, if given; notes it as unreadable if it cannot be.
    fn read(
        &mut self,
        path: &Option<PathBuf>,
        columns: &'static [(&'static str, bool)],
        flag: impl FnOnce(&mut Unreadable) -> &mut bool,
    ) -> Option<Table> {
        let path = path.as_deref()?;
        let table = read_table(path, columns, &mut self.errors);
        *flag(&mut self.unreadable) = table.is_none();
        table
    }

    /// Puts the problems of the file just checked in line order (stable: a row's problems
    /// stay in column order).
    fn sort_last_file(&mut self) {
        let Some(file) = self.errors.last().map(|e| e.file.clone()) else { return };
        let start = self.errors.iter().rposition(|e| e.file != file).map_or(0, |i| i + 1);
        self.errors[start..].sort_by_key(|e| e.line);
    }

    fn customers(&mut self, table: &Table) {
        for row in &table.rows {
            let mut cells = Cells { table, row, errors: &mut self.errors };
            let key = cells.required("key", 100);
            let name = cells.required("name", 200);
            let address = cells.optional("address", 500);
            let policy = cells.check("policy", resolve_policy(&self.policies, cells.get("policy")));
            let Some(key) = key else { continue };
            let id = CustomerId::from_uuid(reference_uuid("customer", &key));
            if let Some((first, _)) = self.customers.get(&key) {
                cells.error("key", format!("'{key}' is already the key of the customer on line {first}"));
                continue;
            }
            self.customers.insert(key, (row.line, CustomerRef { id, policy: policy.clone() }));
            if let (Some(name), Some(address), Some(policy)) = (name, address, policy) {
                self.batch.customers.push(Customer { id, name, address, policy_id: policy.id });
            }
        }
    }

    async fn sites(&mut self, table: &Table) -> Result<(), DbError> {
        for row in &table.rows {
            let customer = self.customer_ref(row.values_for(table, "customer")).await?;
            let quiet = self.unreadable.customers;
            let mut cells = Cells { table, row, errors: &mut self.errors };
            let key = cells.required("key", 100);
            let customer = match customer {
                _ if cells.get("customer").is_empty() => {
                    cells.error("customer", "required, but empty");
                    None
                }
                Err(_) if quiet => None,
                result => cells.check("customer", result),
            };
            let name = cells.required("name", 200);
            let address = cells.optional("address", 500);
            let Some(key) = key else { continue };
            let id = SiteId::from_uuid(reference_uuid("site", &key));
            if let Some((first, _)) = self.sites.get(&key) {
                cells.error("key", format!("'{key}' is already the key of the site on line {first}"));
                continue;
            }
            self.sites.insert(key, (row.line, SiteRef { id, customer_id: customer.as_ref().map(|c| c.id) }));
            if let (Some(customer), Some(name), Some(address)) = (customer, name, address) {
                self.batch.sites.push(Site { id, customer_id: customer.id, name, address });
            }
        }
        Ok(())
    }

    async fn assets(&mut self, table: &Table) -> Result<(), DbError> {
        for row in &table.rows {
            let site_text = row.values_for(table, "site");
            let site = self.site_ref(site_text).await?;
            let quiet = self.unreadable.sites;
            let mut cells = Cells { table, row, errors: &mut self.errors };
            let key = cells.required("key", 100);
            let site = match site {
                _ if site_text.is_empty() => {
                    cells.error("site", "required, but empty");
                    None
                }
                Some(site) => Some(site),
                None if quiet => None,
                None => {
                    cells.error(
                        "site",
                        format!("'{site_text}' is not a key of sites.csv nor of a site imported before"),
                    );
                    None
                }
            };
            let model = cells.required("model", 200);
            let serial = cells.optional("serial", 128);
            let location = cells.optional("location", 200);
            let warranty_end = match cells.get("warranty_end") {
                "" => Some(None),
                text => cells.check("warranty_end", parse_date(text)).map(Some),
            };
            let Some(key) = key else { continue };
            let id = AssetId::from_uuid(reference_uuid("asset", &key));
            if let Some((first, _)) = self.assets.get(&key) {
                cells.error("key", format!("'{key}' is already the key of the asset on line {first}"));
                continue;
            }
            self.assets.insert(key, (row.line, AssetRef { id, site_id: site.map(|s| s.id) }));
            if let (Some(site), Some(model), Some(serial), Some(location), Some(warranty_end)) =
                (site, model, serial, location, warranty_end)
            {
                self.batch.assets.push(Asset { id, site_id: site.id, model, serial, location, warranty_end });
            }
        }
        Ok(())
    }

    fn parts(&mut self, table: &Table) {
        let mut seen: HashMap<String, u64> = HashMap::new();
        for row in &table.rows {
            let mut cells = Cells { table, row, errors: &mut self.errors };
            let part_number = cells.required("part_number", 64);
            let name = cells.required("name", 200);
            let approval = cells.check("needs_customer_approval", parse_bool(cells.get("needs_customer_approval")));
            let price = match cells.get("unit_price") {
                "" => {
                    cells.error("unit_price", "required, but empty; write 0 for a part given free");
                    None
                }
                text => cells.check("unit_price", parse_yuan(text)),
            };
            let Some(part_number) = part_number else { continue };
            if let Some(first) = seen.get(&part_number) {
                cells.error("part_number", format!("'{part_number}' is already on line {first}"));
                continue;
            }
            seen.insert(part_number.clone(), row.line);
            if let (Some(name), Some(needs_customer_approval), Some(unit_price_cents)) = (name, approval, price) {
                self.batch.parts.push(PartCatalogEntry {
                    part_number,
                    name,
                    needs_customer_approval,
                    unit_price_cents,
                });
            }
        }
    }

    async fn work_orders(&mut self, table: &Table) -> Result<(), DbError> {
        let mut seen: HashMap<WorkOrderId, u64> = HashMap::new();
        for row in &table.rows {
            let customer_text = row.values_for(table, "customer");
            let site_text = row.values_for(table, "site");
            let asset_text = row.values_for(table, "asset");
            let assignee_text = row.values_for(table, "assignee");
            let customer = self.customer_ref(customer_text).await?;
            let site = self.site_ref(site_text).await?;
            let asset = if asset_text.is_empty() { None } else { Some(self.asset_ref(asset_text).await?) };
            let assignee = if assignee_text.is_empty() { None } else { Some(self.technician(assignee_text).await?) };
            let now = self.now;
            let quiet = &self.unreadable;
            let mut cells = Cells { table, row, errors: &mut self.errors };

            let customer = match customer {
                _ if customer_text.is_empty() => {
                    cells.error("customer", "required, but empty");
                    None
                }
                Err(_) if quiet.customers => None,
                result => cells.check("customer", result),
            };
            let site = match site {
                _ if site_text.is_empty() => {
                    cells.error("site", "required, but empty");
                    None
                }
                None if quiet.sites => None,
                None => {
                    cells.error(
                        "site",
                        format!("'{site_text}' is not a key of sites.csv nor of a site imported before"),
                    );
                    None
                }
                Some(site) => {
                    let elsewhere = matches!((&customer, site.customer_id), (Some(c), Some(owner)) if c.id != owner);
                    if elsewhere {
                        cells.error("site", format!("site '{site_text}' is not a site of customer '{customer_text}'"));
                    }
                    Some(site)
                }
            };
            let asset = match asset {
                None => Some(None),
                Some(None) if quiet.assets => None,
                Some(None) => {
                    cells.error(
                        "asset",
                        format!("'{asset_text}' is not a key of assets.csv nor of an asset imported before"),
                    );
                    None
                }
                Some(Some(asset)) => {
                    let elsewhere = matches!((&site, asset.site_id), (Some(s), Some(at)) if s.id != at);
                    if elsewhere {
                        cells.error("asset", format!("asset '{asset_text}' is not at site '{site_text}'"));
                    }
                    Some(Some(asset.id))
                }
            };
            let contact_name = cells.required("contact_name", 100);
            let contact_phone = cells.required("contact_phone", 40);
            let kind = cells.check("kind", parse_kind(cells.get("kind")));
            let fault_level = cells.check("fault_level", parse_fault_level(cells.get("fault_level")));
            let symptom = cells.required("symptom", 4000);
            let reported_by = cells.required("reported_by", 200);
            let zone = customer.as_ref().and_then(|c| c.policy.as_ref()).map(|p| p.utc_offset_minutes);
            let reported_at = match cells.get("reported_at") {
                "" => {
                    cells.error("reported_at", "required, but empty; give the time of the call (接报时间)");
                    None
                }
                text => match parse_report_time(text, zone) {
                    Ok(Some(at)) if at > now + Duration::minutes(FUTURE_TOLERANCE_MINUTES) => {
                        cells.error("reported_at", format!("'{text}' is in the future; give the time of the call"));
                        None
                    }
                    Ok(at) => at,
                    Err(message) => {
                        cells.error("reported_at", message);
                        None
                    }
                },
            };
            let assignee = match assignee {
                None => Some(None),
                Some(result) => cells.check("assignee", result).map(Some),
            };
            let billing = cells.check("billing", parse_billing(cells.get("billing")));
            let instructions = cells.optional("instructions", 4000);

            let (
                Some(customer),
                Some(site),
                Some(asset_id),
                Some(contact_name),
                Some(contact_phone),
                Some(kind),
                Some(fault_level),
                Some(symptom),
                Some(reported_by),
                Some(reported_at),
                Some(assignee),
                Some(billing),
                Some(instructions),
            ) = (
                customer,
                site,
                asset,
                contact_name,
                contact_phone,
                kind,
                fault_level,
                symptom,
                reported_by,
                reported_at,
                assignee,
                billing,
                instructions,
            )
            else {
                continue;
            };
            let id = work_order_id(customer.id, site.id, asset_id, kind, &symptom, &reported_by, reported_at);
            if let Some(first) = seen.get(&id) {
                cells.error(
                    "",
                    format!(
                        "the same call as line {first} (customer, site, asset, kind, symptom, reported_by and \
                         reported_at all equal); remove one of them"
                    ),
                );
                continue;
            }
            seen.insert(id, row.line);
            let Some(policy) = customer.policy else { continue };
            let suffix = id.as_uuid().simple().to_string()[26..].to_uppercase();
            self.batch.work_orders.push(WorkOrder {
                id,
                number: format!("WO-{}-{suffix}", reported_at.format("%Y%m%d")),
                customer_id: customer.id,
                site_id: site.id,
                asset_id,
                contact: Contact { name: contact_name, phone: contact_phone },
                kind,
                fault_level,
                symptom,
                reported_by,
                reported_at,
                assignee,
                scheduled_for: None,
                billing,
                status: if assignee.is_some() { WorkOrderStatus::Assigned } else { WorkOrderStatus::New },
                instructions,
                template_id: None,
                deadlines: policy.deadlines(fault_level, reported_at),
                responded_at: None,
                arrived_at: None,
                completed_at: None,
                status_note: None,
                visit_version: 0,
            });
        }
        Ok(())
    }

    /// A customer by key of this import, key imported before, id, or exact name.
    async fn customer_ref(&mut self, text: &str) -> Result<Result<CustomerRef, String>, DbError> {
        if text.is_empty() {
            return Ok(Err(String::new()));
        }
        if let Some((_, customer)) = self.customers.get(text) {
            return Ok(Ok(customer.clone()));
        }
        if let Some(cached) = self.customer_cache.get(text) {
            return Ok(cached.clone());
        }
        let by_key = self.db.customer(CustomerId::from_uuid(reference_uuid("customer", text))).await?;
        let by_id = match (&by_key, text.parse::<CustomerId>()) {
            (None, Ok(id)) => self.db.customer(id).await?,
            _ => None,
        };
        let result = match by_key.or(by_id) {
            Some(customer) => self.stored_customer(&customer),
            None => {
                let named: Vec<&Customer> = self.existing_customers.iter().filter(|c| c.name == text).collect();
                match named.as_slice() {
                    [customer] => self.stored_customer(customer),
                    [] => Err(format!("'{text}' is not a key of customers.csv nor the name of an existing customer")),
                    several => Err(format!(
                        "{} customers are named '{text}'; use the customer's key or id instead",
                        several.len()
                    )),
                }
            }
        };
        self.customer_cache.insert(text.to_owned(), result.clone());
        Ok(result)
    }

    fn stored_customer(&self, customer: &Customer) -> Result<CustomerRef, String> {
        match self.policies.iter().find(|p| p.id == customer.policy_id) {
            Some(policy) => Ok(CustomerRef { id: customer.id, policy: Some(policy.clone()) }),
            None => Err(format!(
                "the service policy of customer '{}' is missing; give the customer a policy first",
                customer.name
            )),
        }
    }

    /// A site by key of this import, key imported before, or id.
    async fn site_ref(&mut self, text: &str) -> Result<Option<SiteRef>, DbError> {
        if text.is_empty() {
            return Ok(None);
        }
        if let Some((_, site)) = self.sites.get(text) {
            return Ok(Some(*site));
        }
        if let Some(cached) = self.site_cache.get(text) {
            return Ok(*cached);
        }
        let mut site = self.db.site(SiteId::from_uuid(reference_uuid("site", text))).await?;
        if let (None, Ok(id)) = (&site, text.parse::<SiteId>()) {
            site = self.db.site(id).await?;
        }
        let found = site.map(|s| SiteRef { id: s.id, customer_id: Some(s.customer_id) });
        self.site_cache.insert(text.to_owned(), found);
        Ok(found)
    }

    /// An asset by key of this import, key imported before, or id.
    async fn asset_ref(&mut self, text: &str) -> Result<Option<AssetRef>, DbError> {
        if let Some((_, asset)) = self.assets.get(text) {
            return Ok(Some(*asset));
        }
        if let Some(cached) = self.asset_cache.get(text) {
            return Ok(*cached);
        }
        let mut asset = self.db.asset(AssetId::from_uuid(reference_uuid("asset", text))).await?;
        if let (None, Ok(id)) = (&asset, text.parse::<AssetId>()) {
            asset = self.db.asset(id).await?;
        }
        let found = asset.map(|a| AssetRef { id: a.id, site_id: Some(a.site_id) });
        self.asset_cache.insert(text.to_owned(), found);
        Ok(found)
    }

    /// An enabled technician by user name.
    async fn technician(&mut self, username: &str) -> Result<Result<UserId, String>, DbError> {
        if let Some(cached) = self.users.get(username) {
            return Ok(cached.clone());
        }
        let result = match self.db.user_by_username(username).await? {
            None => Err(format!("there is no user '{username}'; give a technician's user name, or leave it empty")),
            Some(user) if user.info.role != Role::Technician => Err(format!(
                "'{username}' is a {}, not a technician; work orders are assigned to technicians",
                user.info.role
            )),
            Some(user) if user.info.disabled => {
                Err(format!("'{username}' is disabled; assign another technician or leave it empty"))
            }
            Some(user) => Ok(user.info.id),
        };
        self.users.insert(username.to_owned(), result.clone());
        Ok(result)
    }
}

impl Row {
    fn values_for<'a>(&'a self, table: &Table, column: &str) -> &'a str {
        let index = table.columns.iter().position(|(c, _)| *c == column).expect("a column of this file");
        &self.values[index]
    }
}

// ---------------------------------------------------------------------------------------------
// Ids

/// The namespace of every id an import derives; changing it would duplicate re-imported data.
const ID_NAMESPACE: &[u8] = b"fieldbook import v1";

fn digest(kind: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(ID_NAMESPACE);
    hash.update([0]);
    hash.update(kind.as_bytes());
    for part in parts {
        hash.update([0x1f]);
        hash.update(part);
    }
    hash.finalize().into()
}

/// The id of a customer, site or asset of the importer's key: a name-based UUID (version 8,
/// SHA-256), the same every time the key is imported.
fn reference_uuid(kind: &str, key: &str) -> uuid::Uuid {
    let hash = digest(kind, &[key.as_bytes()]);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// A work order's id from what identifies the call. A UUIDv7 like every other work order's,
/// timed at the report and with the hash for its random bits, so it sorts with the rest and
/// is the same every time the row is imported.
fn work_order_id(
    customer: CustomerId,
    site: SiteId,
    asset: Option<AssetId>,
    kind: WorkOrderKind,
    symptom: &str,
    reported_by: &str,
    reported_at: DateTime<Utc>,
) -> WorkOrderId {
    let asset = asset.map(|a| a.to_string()).unwrap_or_default();
    let at = reported_at.to_rfc3339();
    let hash = digest(
        "work_order",
        &[
            customer.to_string().as_bytes(),
            site.to_string().as_bytes(),
            asset.as_bytes(),
            kind.as_str().as_bytes(),
            symptom.as_bytes(),
            reported_by.as_bytes(),
            at.as_bytes(),
        ],
    );
    let mut random = [0u8; 10];
    random.copy_from_slice(&hash[..10]);
    let millis = u64::try_from(reported_at.timestamp_millis()).unwrap_or(0);
    WorkOrderId::from_uuid(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid())
}

// ---------------------------------------------------------------------------------------------
// Cell formats

fn resolve_policy(policies: &[ServicePolicy], text: &str) -> Result<ServicePolicy, String> {
    if text.is_empty() {
        return policies
            .first()
            .cloned()
            .ok_or_else(|| "there is no service policy yet; create one before importing customers".to_owned());
    }
    policies
        .iter()
        .find(|p| p.name.zh == text || p.name.en.eq_ignore_ascii_case(text) || p.id.to_string() == text.to_lowercase())
        .cloned()
        .ok_or_else(|| {
            let names: Vec<String> = policies.iter().map(|p| format!("{} / {}", p.name.zh, p.name.en)).collect();
            format!("'{text}' is not a service policy; use one of: {}", names.join("; "))
        })
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text.to_lowercase().as_str() {
        "" | "false" | "no" | "n" | "0" | "否" => Ok(false),
        "true" | "yes" | "y" | "1" | "是" => Ok(true),
        _ => Err(format!("'{text}' is not yes or no; use 是/否, yes/no or true/false")),
    }
}

/// Yuan with at most two decimals, into fen.
fn parse_yuan(text: &str) -> Result<i64, String> {
    let usage = "write the price in yuan with at most two decimals, e.g. 45.00";
    let number = text.trim_start_matches(['¥', '￥']).trim();
    if let Some(rest) = number.strip_prefix('-')
        && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
        && !rest.is_empty()
    {
        return Err(format!("'{text}' is negative; a price is 0 or more"));
    }
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || (number.contains('.') && fraction.is_empty()) {
        return Err(format!("'{text}' is not a price; {usage}"));
    }
    if fraction.len() > 2 {
        return Err(format!("'{text}' has more than two decimals; {usage}"));
    }
    let fen: i64 = format!("{fraction:0<2}").parse().unwrap_or(0);
    whole
        .parse::<i64>()
        .ok()
        .and_then(|yuan| yuan.checked_mul(100))
        .and_then(|cents| cents.checked_add(fen))
        .filter(|cents| *cents <= 100_000_000_000)
        .ok_or_else(|| format!("'{text}' is too large for a part's price"))
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    ["%Y-%m-%d", "%Y/%m/%d"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
        .ok_or_else(|| format!("'{text}' is not a date; use YYYY-MM-DD, e.g. 2027-06-30"))
}

/// RFC 3339, or a local time in the customer's zone (`utc_offset_minutes`). `None` for a
/// well-formed local time when the zone is unknown (the customer's problem is reported).
fn parse_report_time(text: &str, utc_offset_minutes: Option<i32>) -> Result<Option<DateTime<Utc>>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    let zone = utc_offset_minutes.and_then(|minutes| FixedOffset::east_opt(minutes * 60));
    let zone_name = zone.map_or_else(|| "the customer's time zone".to_owned(), |z| format!("UTC{z}"));
    let local = [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .ok_or_else(|| {
        format!(
            "'{text}' is not a date and time; use YYYY-MM-DD HH:MM ({zone_name}), e.g. 2026-11-20 09:30, \
                 or RFC 3339, e.g. 2026-11-20T09:30:00+08:00"
        )
    })?;
    let Some(zone) = zone else { return Ok(None) };
    zone.from_local_datetime(&local)
        .single()
        .map(|at| Some(at.with_timezone(&Utc)))
        .ok_or_else(|| format!("'{text}' is not a valid time in UTC{zone}"))
}

fn parse_kind(text: &str) -> Result<WorkOrderKind, String> {
    Ok(match text.to_lowercase().as_str() {
        "维修" | "报修" | "repair" => WorkOrderKind::Repair,
        "巡检" | "patrol" => WorkOrderKind::Patrol,
        "保养" | "维保" | "maintenance" => WorkOrderKind::Maintenance,
        "安装调试" | "安装" | "调试" | "验收" | "安装调试/验收" | "installation" => {
            WorkOrderKind::Installation
        }
        "回访" | "return_visit" => WorkOrderKind::ReturnVisit,
        "" => return Err("required, but empty".to_owned()),
        _ => {
            return Err(format!(
                "'{text}' is not a work order kind; use 维修/巡检/保养/安装调试/回访 or \
                 repair/patrol/maintenance/installation/return_visit"
            ));
        }
    })
}

fn parse_fault_level(text: &str) -> Result<FaultLevel, String> {
    Ok(match text.to_lowercase().as_str() {
        "一级" | "重大" | "重大故障" | "critical" => FaultLevel::Critical,
        "二级" | "主要" | "主要故障" | "major" => FaultLevel::Major,
        "三级" | "次要" | "次要故障" | "minor" => FaultLevel::Minor,
        "" => return Err("required, but empty".to_owned()),
        _ => return Err(format!("'{text}' is not a fault level; use 一级/二级/三级 or critical/major/minor")),
    })
}

fn parse_billing(text: &str) -> Result<BillingBasis, String> {
    Ok(match text.to_lowercase().as_str() {
        "三包" | "免费" | "免费服务" | "warranty" => BillingBasis::Warranty,
        "合同" | "合同服务" | "contract" => BillingBasis::Contract,
        "有偿" | "有偿服务" | "paid" => BillingBasis::Paid,
        "" => return Err("required, but empty".to_owned()),
        _ => return Err(format!("'{text}' is not a billing basis; use 三包/合同/有偿 or warranty/contract/paid")),
    })
}

// Keep the help text and the headers in step.
const _: () = {
    const fn contains(haystack: &str, needle: &str) -> bool {
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        let mut i = 0;
        while i + n.len() <= h.len() {
            let mut j = 0;
            while j < n.len() && h[i + j] == n[j] {
                j += 1;
            }
            if j == n.len() {
                return true;
            }
            i += 1;
        }
        false
    }
    assert!(contains(FORMAT_HELP, CUSTOMERS_HEADER));
    assert!(contains(FORMAT_HELP, SITES_HEADER));
    assert!(contains(FORMAT_HELP, ASSETS_HEADER));
    assert!(contains(FORMAT_HELP, PARTS_HEADER));
    assert!(contains(FORMAT_HELP, WORK_ORDERS_HEADER));

    /// The header is the columns, in order, joined by commas.
    const fn header_matches(header: &str, columns: &[(&str, bool)]) -> bool {
        let h = header.as_bytes();
        let (mut at, mut c) = (0, 0);
        while c < columns.len() {
            let name = columns[c].0.as_bytes();
            let mut j = 0;
            while j < name.len() {
                if at + j >= h.len() || h[at + j] != name[j] {
                    return false;
                }
                j += 1;
            }
            at += name.len();
            c += 1;
            if c < columns.len() {
                if at >= h.len() || h[at] != b',' {
                    return false;
                }
                at += 1;
            }
        }
        at == h.len()
    }
    assert!(header_matches(CUSTOMERS_HEADER, CUSTOMER_COLUMNS));
    assert!(header_matches(SITES_HEADER, SITE_COLUMNS));
    assert!(header_matches(ASSETS_HEADER, ASSET_COLUMNS));
    assert!(header_matches(PARTS_HEADER, PART_COLUMNS));
    assert!(header_matches(WORK_ORDERS_HEADER, WORK_ORDER_COLUMNS));
};
