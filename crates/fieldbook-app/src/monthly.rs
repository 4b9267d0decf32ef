//! The monthly fault report (设备故障月报表) on a supervisor's device: drawn up from the team's
//! work this device holds, so it works offline, shown with its charts and exported to PDF or
//! CSV through the report crate.

use std::path::Path;

use chrono::FixedOffset;
use fieldbook_domain::WorkOrderKind;
use fieldbook_domain::monthly::{self, Month, MonthlyReport};
use fieldbook_report::monthly::{MONTHLY_TEMPLATE, MonthlyCharts, charts, monthly_csv, render_monthly};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::dto::Locale;
use crate::reports::{fonts, write_export};
use crate::{App, AppError, ErrorCode, parse_id};

/// A month's report with its charts, as the screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MonthlyView {
    pub report: MonthlyReport,
    pub charts: ChartSet,
}

/// The report's charts as SVG documents (drawn by plotters, the same the PDF carries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ChartSet {
    pub levels: String,
    pub categories: String,
    pub times: String,
    pub satisfaction: String,
}

impl From<MonthlyCharts> for ChartSet {
    fn from(c: MonthlyCharts) -> Self {
        ChartSet { levels: c.levels, categories: c.categories, times: c.times, satisfaction: c.satisfaction }
    }
}

/// `pdf` or `csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Pdf,
    Csv,
}

/// A file written by an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ExportedFile {
    pub path: String,
    #[ts(type = "number")]
    pub bytes: u64,
}

impl App {
    /// The time zone the months are counted in: this device's.
    fn report_zone() -> FixedOffset {
        *chrono::Local::now().offset()
    }

    /// Draws up `customer_id`'s fault report for `month` (`2026-11`) from the work this device
    /// holds, judging open deadlines now.
    pub fn monthly_report(&self, customer_id: &str, month: &str) -> Result<MonthlyReport, AppError> {
        self.supervising()?;
        let customer_id = parse_id(customer_id)?;
        let month = Month::parse(month)?;
        let zone = Self::report_zone();
        let (start, end) = month.bounds(zone);
        let store = self.store();
        let catalog = store.dispatch_catalog()?;
        let customer = catalog
            .customers
            .iter()
            .find(|c| c.id == customer_id)
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, "this device knows no such customer"))?;
        // A month's fixes are judged against faults up to the repeat window after it.
        let horizon = end + chrono::Duration::days(monthly::REPEAT_WINDOW_DAYS + 31);
        let visits = store.visits_reported(customer_id, WorkOrderKind::Repair, start, horizon)?;
        Ok(monthly::compute(customer, month, zone, &visits, &catalog.assets, self.clock.now()))
    }

    /// The report with its charts worded in `locale`.
    pub fn monthly_view(&self, customer_id: &str, month: &str, locale: Locale) -> Result<MonthlyView, AppError> {
        let report = self.monthly_report(customer_id, month)?;
        let charts = charts(&report, locale.as_str()).map_err(|e| AppError::new(ErrorCode::Storage, e.to_string()))?;
        Ok(MonthlyView { report, charts: charts.into() })
    }

    /// Writes the month's report to `dir` as PDF or CSV.
    pub fn export_monthly(
        &self,
        customer_id: &str,
        month: &str,
        locale: Locale,
        format: ExportFormat,
        dir: &Path,
    ) -> Result<ExportedFile, AppError> {
        let report = self.monthly_report(customer_id, month)?;
        let failed = |e: fieldbook_report::ReportError| AppError::new(ErrorCode::Storage, e.to_string());
        let (bytes, extension) = match format {
            ExportFormat::Pdf => {
                let company = self.store().setting("company.name")?.unwrap_or_else(|| "Fieldbook".to_owned());
                let pdf =
                    render_monthly(fonts()?, MONTHLY_TEMPLATE, &report, &company, locale.as_str(), Self::report_zone())
                        .map_err(failed)?;
                (pdf, "pdf")
            }
            ExportFormat::Csv => (monthly_csv(&report, locale.as_str()).map_err(failed)?, "csv"),
        };
        let short_customer: String =
            report.customer_id.chars().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect();
        let name = format!("monthly-{}-{short_customer}-{}.{extension}", report.month, locale.as_str());
        let path = write_export(dir, &name, &bytes)?;
        Ok(ExportedFile { path: path.display().to_string(), bytes: bytes.len() as u64 })
    }
}
