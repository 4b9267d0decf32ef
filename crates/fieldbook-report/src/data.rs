//! The report's data: what the template shows, as plain values. Names of kinds, levels,
//! answers and billing stay codes, so the template (which a service company may change) words
//! them in each language; times are formatted in the site's time zone here.

use chrono::{DateTime, FixedOffset, Utc};
use fieldbook_domain::{Answer, Asset, Customer, ItemKind, Method, PartBilling, Site, User, Visit, text::Bilingual};
use serde::Serialize;

/// A visit report as the template receives it in `/data.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportData {
    /// `zh-CN` or `en`.
    pub locale: String,
    pub company: String,
    pub number: String,
    /// Work-order kind code (`repair`, `patrol`, …).
    pub kind: String,
    /// `critical`, `major` or `minor`.
    pub fault_level: String,
    pub customer: String,
    pub customer_address: String,
    pub site: String,
    pub site_address: String,
    pub contact: String,
    pub equipment: Option<Equipment>,
    pub symptom: String,
    /// Reported, responded, arrived, completed, each with its deadline where there is one.
    pub times: Vec<TimeRow>,
    /// Checklist answers grouped by method, in 听 摸 视 嗅 验 order; empty groups left out.
    pub checklist: Vec<MethodGroup>,
    pub faults: Vec<FaultRow>,
    pub parts: Vec<PartRow>,
    pub photos: Vec<PhotoRow>,
    pub sign_off: Option<SignOffRow>,
    pub technician: String,
    pub staff_no: String,
    pub verification: Option<Verification>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Equipment {
    pub model: String,
    pub serial: String,
    pub location: String,
    pub warranty_end: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeRow {
    /// `reported`, `responded`, `arrived` or `completed`.
    pub event: String,
    pub at: Option<String>,
    pub due: Option<String>,
    /// `met`, `late` (done after its deadline), `breached` (not done, deadline passed) or `open`.
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodGroup {
    /// `listen`, `touch`, `look`, `smell` or `test`.
    pub method: String,
    pub items: Vec<ItemRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemRow {
    pub label: String,
    /// `four_no` (四无), `six_no_leak` (六不漏) or none.
    pub standard: Option<String>,
    /// `normal`, `abnormal`, `not_applicable`, or `unanswered`.
    pub assessment: String,
    /// The answer in words when it is not a plain check: a reading with its unit, text.
    pub value: Option<String>,
    /// A reading's limits, e.g. `20–60 °C`.
    pub limits: Option<String>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultRow {
    pub symptom: String,
    pub cause: String,
    pub action: String,
    pub result: String,
    pub category: String,
    pub started: Option<String>,
    pub ended: Option<String>,
    pub loaner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartRow {
    pub number: String,
    pub name: String,
    pub quantity: u32,
    pub serial: String,
    /// `warranty`, `contract` or `paid`.
    pub billing: String,
    /// The paid price per unit, formatted (e.g. `¥128.00`).
    pub unit_price: Option<String>,
    pub billing_reason: Option<String>,
    pub old_part_returned: bool,
    pub needs_customer_approval: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhotoRow {
    /// Path of the image in the report's world (`/images/…`).
    pub file: String,
    pub caption: String,
    pub taken: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignOffRow {
    pub signature_file: String,
    pub signer: String,
    pub opinion: String,
    pub satisfaction: u8,
    pub signed: String,
}

/// What the verification footer shows: the report's content hash and a short code for reading
/// out on the phone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub hash: String,
    pub code: String,
    /// The signed report (its JSON), carried in the PDF as the attached file
    /// [`crate::SIGNED_REPORT_FILE`], so the PDF alone can be checked with
    /// `fieldbook-server verify report.pdf`.
    #[serde(skip)]
    pub signed_report: Option<Vec<u8>>,
    /// Whether the template attaches it (set by [`crate::render`]).
    pub attached: bool,
}

impl Verification {
    /// The footer and attachment of a signed report.
    pub fn of(signed: &fieldbook_domain::evidence::SignedReport) -> Self {
        Verification {
            hash: signed.hash.clone(),
            code: fieldbook_domain::evidence::short_code(&signed.hash),
            signed_report: Some(serde_json::to_vec(signed).expect("a signed report serialises to JSON")),
            attached: true,
        }
    }
}

/// An image the report shows, by the path its row names.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportImage {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Everything a report is made from, as the device or the server holds it.
pub struct VisitSource<'a> {
    pub locale: &'a str,
    pub company: &'a str,
    pub visit: &'a Visit,
    pub customer: &'a Customer,
    pub site: &'a Site,
    pub asset: Option<&'a Asset>,
    pub technician: &'a User,
    /// The time zone the report's times are written in (the site's).
    pub zone: FixedOffset,
    /// A photo's thumbnail by the photo's blob id (the report shows thumbnails).
    pub thumbnail: &'a dyn Fn(&fieldbook_domain::BlobId) -> Option<Vec<u8>>,
    /// A blob's bytes by id: the signature's PNG.
    pub blob: &'a dyn Fn(&fieldbook_domain::BlobId) -> Option<Vec<u8>>,
    pub verification: Option<Verification>,
}

const METHODS: [Method; 5] = [Method::Listen, Method::Touch, Method::Look, Method::Smell, Method::Test];

impl ReportData {
    /// The report of a visit, and the images it shows (photos without a thumbnail are left out).
    pub fn from_visit(source: &VisitSource<'_>) -> (ReportData, Vec<ReportImage>) {
        let zh = source.locale == "zh-CN";
        let fmt = |at: DateTime<Utc>| at.with_timezone(&source.zone).format("%Y-%m-%d %H:%M").to_string();
        let text = |b: &Bilingual| if zh { b.zh.clone() } else { b.en.clone() };
        let w = &source.visit.work_order;
        let state = |done: Option<DateTime<Utc>>, due: DateTime<Utc>| {
            match done {
                Some(at) if at <= due => "met",
                Some(_) => "late",
                None if w.status.is_open() => "open",
                None => "breached",
            }
            .to_owned()
        };
        let mut times =
            vec![TimeRow { event: "reported".into(), at: Some(fmt(w.reported_at)), due: None, state: "met".into() }];
        for (event, done, due) in [
            ("responded", w.responded_at, w.deadlines.respond_by),
            ("arrived", w.arrived_at, w.deadlines.arrive_by),
            ("completed", w.completed_at, w.deadlines.resolve_by),
        ] {
            times.push(TimeRow {
                event: event.into(),
                at: done.map(fmt),
                due: Some(fmt(due)),
                state: state(done, due),
            });
        }

        let results = source.visit.current_results();
        let mut checklist = Vec::new();
        if let Some(template) = &source.visit.template {
            for method in METHODS {
                let items: Vec<ItemRow> = template
                    .items
                    .iter()
                    .filter(|item| item.method == method)
                    .map(|item| {
                        let result = results.get(item.key.as_str());
                        let (value, limits) = match (&item.kind, result.map(|r| &r.answer)) {
                            (ItemKind::Reading { unit, min, max }, answer) => {
                                let value = match answer {
                                    Some(Answer::Reading(v)) => Some(format!("{v} {unit}")),
                                    _ => None,
                                };
                                let limits = match (min, max) {
                                    (Some(lo), Some(hi)) => Some(format!("{lo}–{hi} {unit}")),
                                    (Some(lo), None) => Some(format!("≥ {lo} {unit}")),
                                    (None, Some(hi)) => Some(format!("≤ {hi} {unit}")),
                                    (None, None) => None,
                                };
                                (value, limits)
                            }
                            (_, Some(Answer::Text(t))) => (Some(t.clone()), None),
                            _ => (None, None),
                        };
                        ItemRow {
                            label: text(&item.label),
                            standard: item.standard.map(|s| {
                                match s {
                                    fieldbook_domain::Standard::FourNo => "four_no",
                                    fieldbook_domain::Standard::SixNoLeak => "six_no_leak",
                                }
                                .to_owned()
                            }),
                            assessment: result.map_or("unanswered", |r| r.assessment.as_str()).to_owned(),
                            value,
                            limits,
                            note: result.map(|r| r.note.clone()).unwrap_or_default(),
                        }
                    })
                    .collect();
                if !items.is_empty() {
                    checklist.push(MethodGroup { method: method.as_str().to_owned(), items });
                }
            }
        }

        let faults = source
            .visit
            .current_faults()
            .into_iter()
            .map(|f| FaultRow {
                symptom: f.symptom.clone(),
                cause: f.cause.clone(),
                action: f.action.clone(),
                result: f.result.clone(),
                category: f.category.clone(),
                started: f.started_at.map(fmt),
                ended: f.ended_at.map(fmt),
                loaner: f.loaner_provided_at.map(fmt),
            })
            .collect();
        let parts = source
            .visit
            .current_parts()
            .into_iter()
            .map(|p| PartRow {
                number: p.part_number.clone(),
                name: p.name.clone(),
                quantity: p.quantity,
                serial: p.serial.clone(),
                billing: p.billing.name().to_owned(),
                unit_price: match p.billing {
                    PartBilling::Paid { unit_price_cents } => {
                        Some(format!("¥{}.{:02}", unit_price_cents / 100, unit_price_cents % 100))
                    }
                    _ => None,
                },
                billing_reason: p.billing_reason.clone(),
                old_part_returned: p.old_part_returned,
                needs_customer_approval: p.needs_customer_approval,
            })
            .collect();

        let mut images = Vec::new();
        let mut photos = Vec::new();
        for (n, photo) in source.visit.photos.iter().enumerate() {
            let Some(bytes) = (source.thumbnail)(&photo.blob) else { continue };
            let path = format!("/images/photo-{n}");
            let item_label = photo.item_key.as_deref().and_then(|key| {
                source.visit.template.as_ref()?.items.iter().find(|i| i.key == key).map(|i| text(&i.label))
            });
            let caption = match (item_label, photo.caption.trim()) {
                (Some(label), "") => label,
                (Some(label), caption) => format!("{label}: {caption}"),
                (None, caption) => caption.to_owned(),
            };
            photos.push(PhotoRow { file: path.clone(), caption, taken: fmt(photo.taken_at) });
            images.push(ReportImage { path, bytes });
        }
        let sign_off = source.visit.sign_off.as_ref().and_then(|s| {
            let bytes = (source.blob)(&s.signature)?;
            let path = "/images/signature".to_owned();
            images.push(ReportImage { path: path.clone(), bytes });
            Some(SignOffRow {
                signature_file: path,
                signer: s.signer_name.clone(),
                opinion: s.opinion.clone(),
                satisfaction: s.satisfaction.get(),
                signed: fmt(s.signed_at),
            })
        });

        let data = ReportData {
            locale: if zh { "zh-CN" } else { "en" }.to_owned(),
            company: source.company.to_owned(),
            number: w.number.clone(),
            kind: w.kind.as_str().to_owned(),
            fault_level: w.fault_level.as_str().to_owned(),
            customer: source.customer.name.clone(),
            customer_address: source.customer.address.clone(),
            site: source.site.name.clone(),
            site_address: source.site.address.clone(),
            contact: format!("{} {}", w.contact.name, w.contact.phone).trim().to_owned(),
            equipment: source.asset.map(|a| Equipment {
                model: a.model.clone(),
                serial: a.serial.clone(),
                location: a.location.clone(),
                warranty_end: a.warranty_end.map(|d| d.to_string()),
            }),
            symptom: w.symptom.clone(),
            times,
            checklist,
            faults,
            parts,
            photos,
            sign_off,
            technician: source.technician.name.clone(),
            staff_no: source.technician.staff_no.clone(),
            verification: source.verification.clone(),
        };
        (data, images)
    }
}
