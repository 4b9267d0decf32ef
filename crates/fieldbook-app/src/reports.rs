//! Signed visit reports on the device: each signed version checked here (hash, signature,
//! every photo and the signature image against their ids), checked by the server's ledger
//! when it can be reached, and exported to PDF exactly as signed.

use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use fieldbook_domain::evidence::{SignedReport, Verdict, short_code, verify};
use fieldbook_domain::{Role, User, WorkOrderId};
use fieldbook_report::{Fonts, ReportData, Verification, VisitSource};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::dto::{Locale, RecordState};
use crate::{App, AppError, ErrorCode, parse_id};

/// One signed version of a visit's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ReportVersion {
    /// SHA-256 of the report document (RFC 8785 canonical JSON).
    pub hash: String,
    /// The hash's short code, for reading out on the phone.
    pub code: String,
    #[ts(type = "number")]
    pub visit_version: u32,
    pub signed_at: DateTime<Utc>,
    /// "Name (staff number)".
    pub technician: String,
    pub device_id: String,
    /// The short code of the version this one amends.
    pub amends: Option<String>,
    /// Checked on this device: nothing changed since signing.
    pub intact_here: bool,
    /// What does not match, in plain words (empty when intact).
    pub reasons: Vec<String>,
    /// Where the report stands with the server's ledger: not sent, sent, in the ledger, or
    /// refused (see the conflicts).
    pub ledger: RecordState,
    /// The server's own check, when it was asked and answered.
    pub server: Option<ServerCheck>,
}

/// What the server's ledger says about a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ServerCheck {
    /// `intact`, `revoked_device`, `tampered`, `not_in_ledger` or `unreachable`.
    pub verdict: String,
    pub reasons: Vec<String>,
    /// The report's place in the ledger.
    #[ts(type = "number | null")]
    pub ledger_seq: Option<u64>,
}

/// A report written to a PDF file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ExportedReport {
    pub path: String,
    #[ts(type = "number")]
    pub bytes: u64,
    pub code: String,
}

/// The report fonts, loaded once (about 60 ms) on the first export.
pub(crate) fn fonts() -> Result<&'static Fonts, AppError> {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    if let Some(fonts) = FONTS.get() {
        return Ok(fonts);
    }
    let fonts = Fonts::load().map_err(|e| AppError::new(ErrorCode::Storage, e.to_string()))?;
    Ok(FONTS.get_or_init(|| fonts))
}

fn verdict_name(verdict: &Verdict) -> (&'static str, Vec<String>) {
    match verdict {
        Verdict::Intact { .. } => ("intact", Vec::new()),
        Verdict::RevokedDevice { device_id, .. } => {
            ("revoked_device", vec![format!("device {device_id}, which signed it, has since been revoked")])
        }
        Verdict::Tampered { reasons } => ("tampered", reasons.clone()),
    }
}

impl App {
    fn signed_reports_of(&self, work_order_id: &str) -> Result<(WorkOrderId, Vec<SignedReport>), AppError> {
        let id: WorkOrderId = parse_id(work_order_id)?;
        self.store().work_order(id)?;
        let reports = self.store().signed_reports(id)?;
        Ok((id, reports))
    }

    /// The signed versions of a visit's report, oldest first, each checked on this device.
    pub fn reports(&self, work_order_id: &str) -> Result<Vec<ReportVersion>, AppError> {
        let (id, reports) = self.signed_reports_of(work_order_id)?;
        self.versions(id, &reports)
    }

    fn versions(&self, id: WorkOrderId, reports: &[SignedReport]) -> Result<Vec<ReportVersion>, AppError> {
        let (states, _) = self.visit_sync(id)?;
        let store = self.store();
        Ok(reports
            .iter()
            .map(|report| {
                let verdict = verify(report, |blob| store.blob(blob).ok().flatten(), |_| false);
                let (_, reasons) = verdict_name(&verdict);
                let d = &report.document;
                ReportVersion {
                    hash: report.hash.clone(),
                    code: short_code(&report.hash),
                    visit_version: d.visit.work_order.visit_version,
                    signed_at: d.signed_at,
                    technician: format!("{} ({})", d.technician.name, d.technician.staff_no),
                    device_id: d.device_id.clone(),
                    amends: d.previous.as_deref().map(short_code),
                    intact_here: verdict.is_intact(),
                    reasons,
                    ledger: states
                        .iter()
                        .find(|s| s.entity == "report" && s.entity_id == report.hash)
                        .map_or(RecordState::Confirmed, |s| s.state),
                    server: None,
                }
            })
            .collect())
    }

    /// [`App::reports`], each also checked by the server's ledger when it can be reached.
    ///
    /// Reports signed on another device (a supervisor reviewing a visit, a technician's other
    /// device) are fetched from the ledger first and kept here, so they can be exported offline.
    pub async fn verify_reports(&self, work_order_id: &str) -> Result<Vec<ReportVersion>, AppError> {
        let client = self.client()?;
        if let Some(client) = &client {
            let (id, ours) = self.signed_reports_of(work_order_id)?;
            // Unreachable: the versions below say so, one by one.
            if let Ok(entries) = client.ledger_of(id).await {
                for entry in entries.iter().filter(|e| ours.iter().all(|r| r.hash != e.hash)) {
                    if let Ok(Some(check)) = client.check_report(&entry.hash).await
                        && check.report.hash == entry.hash
                    {
                        self.store().keep_signed_report(&check.report)?;
                    }
                }
            }
        }
        let (id, ours) = self.signed_reports_of(work_order_id)?;
        let mut versions = self.versions(id, &ours)?;
        for version in &mut versions {
            let Some(client) = &client else { break };
            version.server = Some(match client.check_report(&version.hash).await {
                Ok(Some(check)) => {
                    let (verdict, reasons) = verdict_name(&check.verdict);
                    let mut reasons = reasons;
                    if ours.iter().all(|report| *report != check.report) {
                        reasons.push("the server's copy differs from this device's".into());
                    }
                    ServerCheck { verdict: verdict.into(), reasons, ledger_seq: Some(check.entry.seq) }
                }
                Ok(None) => ServerCheck { verdict: "not_in_ledger".into(), reasons: Vec::new(), ledger_seq: None },
                Err(e) => ServerCheck { verdict: "unreachable".into(), reasons: vec![e.to_string()], ledger_seq: None },
            });
        }
        Ok(versions)
    }

    /// A signed report (the latest, or the one whose hash is given) as the template's data
    /// and images, exactly as signed, with its verification footer.
    fn signed_document(
        &self,
        work_order_id: &str,
        hash: Option<&str>,
        locale: Locale,
    ) -> Result<(ReportData, Vec<fieldbook_report::ReportImage>, SignedReport), AppError> {
        let (_, reports) = self.signed_reports_of(work_order_id)?;
        let report = match hash {
            Some(hash) => reports.iter().find(|r| r.hash == hash),
            None => reports.last(),
        }
        .ok_or_else(|| {
            AppError::new(ErrorCode::NotFound, "this visit has no signed report yet; it is made at sign-off")
        })?;
        let visit = &report.document.visit;
        let (customer, site, asset, company) = {
            let store = self.store();
            let (customer, site, asset) = store.parties_of(&visit.work_order)?;
            let company = store.setting("company.name")?.unwrap_or_else(|| "Fieldbook".to_owned());
            (customer, site, asset, company)
        };
        let signer = &report.document.technician;
        let technician = User {
            id: signer.id,
            name: signer.name.clone(),
            staff_no: signer.staff_no.clone(),
            role: Role::Technician,
        };
        let blob = |id: &fieldbook_domain::BlobId| self.store().blob(id).ok().flatten();
        // A photo whose thumbnail cannot be made goes in as it is rather than not at all.
        let thumbnail = |id: &fieldbook_domain::BlobId| self.thumbnail(id).ok().flatten().or_else(|| blob(id));
        let zone = *chrono::Local::now().offset();
        let (data, images) = ReportData::from_visit(&VisitSource {
            locale: locale.as_str(),
            company: &company,
            visit,
            customer: &customer,
            site: &site,
            asset: asset.as_ref(),
            technician: &technician,
            zone,
            thumbnail: &thumbnail,
            blob: &blob,
            verification: Some(Verification::of(report)),
        });
        Ok((data, images, report.clone()))
    }

    /// The signed report's pages as PNG images (base64), typeset exactly as the exported PDF,
    /// so a supervisor reviews the report in the app before approving it.
    pub fn preview_report(
        &self,
        work_order_id: &str,
        hash: Option<&str>,
        locale: Locale,
    ) -> Result<Vec<String>, AppError> {
        use base64::Engine;
        let (data, images, _) = self.signed_document(work_order_id, hash, locale)?;
        let pages = fieldbook_report::preview(fonts()?, fieldbook_report::DEFAULT_TEMPLATE, &data, &images, 1.5)
            .map_err(|e| AppError::new(ErrorCode::Storage, e.to_string()))?;
        Ok(pages.iter().map(|png| base64::engine::general_purpose::STANDARD.encode(png)).collect())
    }

    /// Writes a signed report (the latest, or the one whose hash is given) to a PDF in `dir`,
    /// exactly as signed, with its verification footer and the signed report attached, sealed
    /// by this device (see [`fieldbook_domain::evidence::PdfSeal`]).
    pub fn export_report(
        &self,
        work_order_id: &str,
        hash: Option<&str>,
        locale: Locale,
        dir: &Path,
    ) -> Result<ExportedReport, AppError> {
        let (data, images, report) = self.signed_document(work_order_id, hash, locale)?;
        let visit = &report.document.visit;
        let pdf = fieldbook_report::render(fonts()?, fieldbook_report::DEFAULT_TEMPLATE, &data, &images)
            .map_err(|e| AppError::new(ErrorCode::Storage, e.to_string()))?;
        // Sealed by this device, so `fieldbook-server verify` can vouch for the pages too, not
        // only for the signed report they carry.
        let pdf = {
            let mut store = self.store();
            let device_id = store.setting("sync.device_id")?.unwrap_or_else(|| "unenrolled".to_owned());
            store.device_key()?.seal_pdf(&pdf, &report.hash, &device_id, self.clock.now())
        };
        let code = short_code(&report.hash);
        let name =
            format!("{}-v{}-{}-{}.pdf", visit.work_order.number, visit.work_order.visit_version, code, locale.as_str());
        let path = write_export(dir, &name, &pdf)?;
        Ok(ExportedReport { path: path.display().to_string(), bytes: pdf.len() as u64, code })
    }
}

/// Writes an exported file into `dir` (made if missing) under `name`: written beside and
/// renamed, so a crash never leaves half a file under the final name.
pub(crate) fn write_export(dir: &Path, name: &str, bytes: &[u8]) -> Result<std::path::PathBuf, AppError> {
    let storage = |e: std::io::Error| {
        AppError::new(ErrorCode::Storage, format!("{name} could not be written to {}: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(storage)?;
    let path = dir.join(name);
    let partial = dir.join(format!("{name}.partial"));
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&partial).map_err(storage)?;
        file.write_all(bytes).map_err(storage)?;
        file.sync_all().map_err(storage)?;
    }
    std::fs::rename(&partial, &path).map_err(storage)?;
    Ok(path)
}
