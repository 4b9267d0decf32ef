//! The monthly fault report (设备故障月报表) as PDF, CSV and charts.
//!
//! The figures come from [`fieldbook_domain::monthly::compute`]; this module only words, draws
//! and typesets them. Charts are drawn by plotters as SVG, which the screen shows as they are
//! and the PDF embeds (Typst draws their text with the report's own fonts).

use chrono::{DateTime, FixedOffset, Utc};
use fieldbook_domain::monthly::MonthlyReport;
use plotters::prelude::*;
use serde::Serialize;

use crate::{Fonts, ReportError, ReportImage};

/// The built-in monthly report template.
pub const MONTHLY_TEMPLATE: &str = include_str!("../templates/monthly-report.typ");

/// The chart colours: the report's accent, and red for what went wrong.
const ACCENT: RGBColor = RGBColor(0x1f, 0x5f, 0x8b);
const ALARM: RGBColor = RGBColor(0xb3, 0x26, 0x1e);
const MUTED: RGBColor = RGBColor(0x5f, 0x6b, 0x76);
const FONT: &str = "Noto Sans CJK SC";

/// The monthly report's charts, each an SVG document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthlyCharts {
    /// Faults by level.
    pub levels: String,
    /// Faults by category.
    pub categories: String,
    /// Mean and 90th percentile of the respond, arrive and repair times, in hours.
    pub times: String,
    /// How many visits were rated 1 to 5.
    pub satisfaction: String,
}

/// What the template receives as `/data.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct MonthlyData<'a> {
    locale: &'a str,
    company: &'a str,
    /// When the report was drawn up, in the customer's time zone.
    drawn_up: String,
    report: &'a MonthlyReport,
    /// The comments' signing times, in the customer's time zone, in the comments' order.
    comment_times: Vec<String>,
    /// The faults' report times, likewise.
    line_times: Vec<String>,
    /// The average rating with two decimals, `—` when nothing was rated.
    satisfaction_average: String,
}

fn zh(locale: &str) -> bool {
    locale == "zh-CN"
}

fn level_name(code: &str, locale: &str) -> &'static str {
    match (code, zh(locale)) {
        ("critical", true) => "一级",
        ("major", true) => "二级",
        ("minor", true) => "三级",
        ("critical", false) => "Critical",
        ("major", false) => "Major",
        ("minor", false) => "Minor",
        _ => "?",
    }
}

fn category_name(key: &str, locale: &str) -> String {
    match (key.is_empty(), zh(locale)) {
        (true, true) => "未分类".to_owned(),
        (true, false) => "Uncategorised".to_owned(),
        (false, _) => key.to_owned(),
    }
}

/// Draws the report's charts in `locale` (`zh-CN` or `en`).
pub fn charts(report: &MonthlyReport, locale: &str) -> Result<MonthlyCharts, ReportError> {
    let zh = zh(locale);
    let levels: Vec<(String, u32)> =
        report.by_level.iter().map(|c| (level_name(&c.key, locale).to_owned(), c.count)).collect();
    let categories: Vec<(String, u32)> =
        report.by_category.iter().take(8).map(|c| (category_name(&c.key, locale), c.count)).collect();
    let hours = |minutes: Option<f64>| minutes.unwrap_or(0.0) / 60.0;
    let steps = if zh { ["响应", "到场", "修复"] } else { ["Respond", "Arrive", "Repair"] };
    let times: Vec<(String, f64, f64)> = [&report.respond, &report.arrive, &report.repair]
        .iter()
        .zip(steps)
        .map(|(stats, step)| (step.to_owned(), hours(stats.mean_minutes), hours(stats.p90_minutes.map(|m| m as f64))))
        .collect();
    let ratings: Vec<(String, u32)> =
        report.satisfaction.distribution.iter().enumerate().map(|(i, n)| (format!("{}★", i + 1), *n)).collect();
    Ok(MonthlyCharts {
        levels: bars(if zh { "按故障等级" } else { "Faults by level" }, &levels, ALARM)?,
        categories: bars(if zh { "按故障类别" } else { "Faults by category" }, &categories, ACCENT)?,
        times: paired_bars(
            if zh { "处理时间（小时）" } else { "Times from the report (hours)" },
            &times,
            if zh { ["平均", "90%"] } else { ["mean", "p90"] },
        )?,
        satisfaction: bars(if zh { "满意度分布" } else { "Satisfaction ratings" }, &ratings, ACCENT)?,
    })
}

fn chart_error(e: impl std::fmt::Display) -> ReportError {
    ReportError::Chart(e.to_string())
}

const WIDTH: u32 = 420;
const HEIGHT: u32 = 240;

/// A bar chart of counts, one bar per label, on a whole-number axis.
fn bars(title: &str, data: &[(String, u32)], colour: RGBColor) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let most = data.iter().map(|(_, v)| *v).max().unwrap_or(0);
        let top = (most + most.div_ceil(8)).max(1);
        let labels: Vec<String> = data.iter().map(|(l, _)| l.clone()).collect();
        // `a..b` segmented has a slot for each of a..=b: the last index closes the axis.
        let last = data.len().saturating_sub(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 15).into_font().color(&MUTED))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(34)
            .build_cartesian_2d((0..last).into_segmented(), 0..top)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .y_labels((top as usize + 1).min(8))
            .x_label_formatter(&|segment| match segment {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .label_style((FONT, 12))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(colour.filled())
                    .margin(12)
                    .data(data.iter().enumerate().map(|(i, (_, v))| (i, *v))),
            )
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// Two bars per label (mean and p90), with a legend.
fn paired_bars(title: &str, data: &[(String, f64, f64)], series: [&str; 2]) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let top = data.iter().map(|(_, a, b)| a.max(*b)).fold(0.0, f64::max).max(1.0);
        let labels: Vec<String> = data.iter().map(|(l, _, _)| l.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 15).into_font().color(&MUTED))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(34)
            .build_cartesian_2d(0.0..data.len() as f64, 0.0..top * 1.2)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .x_labels(data.len() * 2 + 1)
            .x_label_formatter(&|x| {
                let centre = x - x.floor();
                if (centre - 0.5).abs() < 0.01 {
                    labels.get(*x as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| format!("{v:.1}"))
            .label_style((FONT, 12))
            .draw()
            .map_err(chart_error)?;
        for (offset, (name, colour)) in
            [(0.15, (series[0], ACCENT)), (0.5, (series[1], ALARM))].into_iter().map(|(offset, s)| (offset, s))
        {
            chart
                .draw_series(data.iter().enumerate().map(|(i, (_, mean, p90))| {
                    let value = if offset < 0.3 { *mean } else { *p90 };
                    let x = i as f64 + offset;
                    Rectangle::new([(x, 0.0), (x + 0.33, value)], colour.filled())
                }))
                .map_err(chart_error)?
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(MUTED)
            .label_font((FONT, 12))
            .draw()
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

fn local(at: DateTime<Utc>, zone: FixedOffset) -> String {
    at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
}

/// Typesets the monthly report with `template` (Typst markup reading `/data.json` and the
/// charts under `/charts/`).
pub fn render_monthly(
    fonts: &Fonts,
    template: &str,
    report: &MonthlyReport,
    company: &str,
    locale: &str,
    zone: FixedOffset,
) -> Result<Vec<u8>, ReportError> {
    let charts = charts(report, locale)?;
    let data = MonthlyData {
        locale,
        company,
        drawn_up: local(report.as_of, zone),
        report,
        comment_times: report.comments.iter().map(|c| local(c.signed_at, zone)).collect(),
        line_times: report.lines.iter().map(|l| local(l.reported_at, zone)).collect(),
        satisfaction_average: report.satisfaction.average.map_or_else(|| "—".to_owned(), |a| format!("{a:.2}")),
    };
    let images = [
        ("levels", charts.levels),
        ("categories", charts.categories),
        ("times", charts.times),
        ("satisfaction", charts.satisfaction),
    ]
    .into_iter()
    .map(|(name, svg)| ReportImage { path: format!("/charts/{name}.svg"), bytes: svg.into_bytes() })
    .collect::<Vec<_>>();
    let ident = format!("monthly-{}-{}", report.customer_id, report.month);
    crate::typeset(fonts, template, serde_json::to_vec(&data)?, &images, &ident)
}

/// The report as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese
/// text right): one figure per row, as `section,item,value`, then one row per fault.
pub fn monthly_csv(report: &MonthlyReport, locale: &str) -> Result<Vec<u8>, ReportError> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row =
        |section: &str, item: &str, value: String| rows.push(vec![section.to_owned(), item.to_owned(), value]);
    let minutes = |m: Option<f64>| m.map(|m| format!("{m:.1}")).unwrap_or_default();
    let whole = |m: Option<i64>| m.map(|m| m.to_string()).unwrap_or_default();
    row("section", "item", "value".to_owned());
    row("report", "customer", report.customer.clone());
    row("report", "month", report.month.clone());
    row("report", "as_of", report.as_of.to_rfc3339());
    row("total", "faults", report.faults.to_string());
    row("total", "cancelled", report.cancelled.to_string());
    row("total", "open", report.open.to_string());
    for c in &report.by_level {
        row("level", &c.key, c.count.to_string());
    }
    for c in &report.by_category {
        row("category", &category_name(&c.key, locale), c.count.to_string());
    }
    for (step, stats) in [("respond", &report.respond), ("arrive", &report.arrive), ("repair", &report.repair)] {
        row("time", &format!("{step}_count"), stats.count.to_string());
        row("time", &format!("{step}_mean_minutes"), minutes(stats.mean_minutes));
        row("time", &format!("{step}_p90_minutes"), whole(stats.p90_minutes));
    }
    let b = &report.breaches;
    row("breach", "respond", b.respond.to_string());
    row("breach", "arrive", b.arrive.to_string());
    row("breach", "resolve", b.resolve.to_string());
    row("breach", "work_orders", b.work_orders.to_string());
    let f = &report.first_time_fix;
    row("first_time_fix", "resolved", f.resolved.to_string());
    row("first_time_fix", "first_time", f.first_time.to_string());
    row("first_time_fix", "rate", f.rate.map(|r| format!("{r:.4}")).unwrap_or_default());
    for a in &report.repeat_assets {
        row("repeat_asset", &format!("{} {} ({})", a.model, a.serial, a.location), a.faults.to_string());
    }
    for p in &report.parts {
        row("parts", &format!("{}_lines", p.billing), p.lines.to_string());
        row("parts", &format!("{}_quantity", p.billing), p.quantity.to_string());
        row("parts", &format!("{}_amount", p.billing), format!("{:.2}", p.amount_cents as f64 / 100.0));
    }
    let s = &report.satisfaction;
    row("satisfaction", "rated", s.rated.to_string());
    row("satisfaction", "average", s.average.map(|a| format!("{a:.2}")).unwrap_or_default());
    for (i, n) in s.distribution.iter().enumerate() {
        row("satisfaction", &format!("rated_{}", i + 1), n.to_string());
    }
    for c in &report.comments {
        row("comment", &format!("{} {} ({}/5)", c.work_order, c.signer, c.satisfaction), c.opinion.clone());
    }
    rows.push(
        [
            "work_order",
            "level",
            "category",
            "asset",
            "reported_at",
            "respond_minutes",
            "arrive_minutes",
            "repair_minutes",
            "breached",
            "resolved",
            "first_time_fix",
            "satisfaction",
        ]
        .map(str::to_owned)
        .to_vec(),
    );
    for l in &report.lines {
        rows.push(vec![
            l.work_order.clone(),
            l.level.as_str().to_owned(),
            category_name(&l.category, locale),
            l.asset.clone().unwrap_or_default(),
            l.reported_at.to_rfc3339(),
            whole(l.respond_minutes),
            whole(l.arrive_minutes),
            whole(l.repair_minutes),
            l.breached.join(" "),
            l.resolved.to_string(),
            l.first_time_fix.to_string(),
            l.satisfaction.map(|s| s.to_string()).unwrap_or_default(),
        ]);
    }
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(vec![0xEF, 0xBB, 0xBF]);
    for record in &rows {
        out.write_record(record).map_err(|e| ReportError::Csv(e.to_string()))?;
    }
    out.into_inner().map_err(|e| ReportError::Csv(e.to_string()))
}
