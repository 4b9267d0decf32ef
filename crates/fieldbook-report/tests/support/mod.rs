#![allow(dead_code)] // Each test binary and the example use a different part of the sample.

//! A whole visit for reports: a signed demo visit with its checklist, fault, parts and
//! signature, plus real photos made here and passed through the media pipeline.

use std::collections::HashMap;

use chrono::FixedOffset;
use fieldbook_demo::{DemoOptions, generate};
use fieldbook_domain::{
    Answer, Assessment, Asset, BlobId, CheckOutcome, Customer, FaultRecord, PartUsage, Photo, Site, User, Visit,
};
use fieldbook_report::{ReportData, ReportImage, VisitSource};

pub struct Sample {
    pub visit: Visit,
    pub customer: Customer,
    pub site: Site,
    pub asset: Option<Asset>,
    pub technician: User,
    pub blobs: HashMap<BlobId, Vec<u8>>,
}

/// A photo of `width`×`height` with a gradient and a few shapes, as a camera JPEG.
pub fn camera_jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let r = ((x * 255) / width) as u8;
        let g = ((y * 255) / height) as u8;
        let b = (((x / 40 + y / 40 + seed) % 2) * 180) as u8;
        image::Rgb([r, g, b])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&image).expect("encode");
    out
}

/// A signed demo visit with a checklist, a fault record and parts, and `photos` photos.
pub fn sample(photos: usize) -> Sample {
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-20T10:00:00+08:00").unwrap().to_utc();
    let data = generate(&DemoOptions::new(120, now));
    let b = &data.batch;
    let signed = b
        .sign_offs
        .iter()
        .find(|s| {
            let w = b.work_orders.iter().find(|w| w.id == s.work_order_id).unwrap();
            w.template_id.is_some() && b.results.iter().filter(|r| r.work_order_id == w.id).count() >= 5
        })
        .expect("a signed demo visit with a checklist");
    let work_order = b.work_orders.iter().find(|w| w.id == signed.work_order_id).unwrap().clone();
    let template = b.templates.iter().find(|t| Some(t.id) == work_order.template_id).cloned();
    let mut blobs: HashMap<BlobId, Vec<u8>> = b.blobs.iter().cloned().collect();
    let options = fieldbook_media::PhotoOptions::default();
    let mut photo_rows = Vec::new();
    for n in 0..photos {
        let processed = fieldbook_media::process_photo(&camera_jpeg(2400, 1800, n as u32), &options).unwrap();
        let id: BlobId = processed.thumbnail_id.parse().unwrap();
        blobs.insert(id.clone(), processed.thumbnail);
        photo_rows.push(Photo {
            blob: id,
            work_order_id: work_order.id,
            item_key: template.as_ref().and_then(|t| t.items.get(n % t.items.len())).map(|i| i.key.clone()),
            caption: if n % 2 == 0 { "现场照片".into() } else { String::new() },
            taken_at: now,
        });
    }
    let mut results: Vec<_> = b.results.iter().filter(|r| r.work_order_id == work_order.id).cloned().collect();
    // One abnormal check with a note, as a report that found something shows it.
    if let Some(found) = results.iter_mut().find(|r| matches!(r.answer, Answer::Check(_))) {
        found.answer = Answer::Check(CheckOutcome::Abnormal);
        found.assessment = Assessment::Abnormal;
        found.note = "外壳有裂纹,已拍照 / housing cracked, photographed".into();
    }
    let visit = Visit {
        results,
        // A patrol seldom has a fault or parts in the demo: the visit gets a repair's, so the
        // report shows every section.
        faults: b.faults.iter().take(1).map(|f| FaultRecord { work_order_id: work_order.id, ..f.clone() }).collect(),
        parts: b.parts.iter().take(2).map(|p| PartUsage { work_order_id: work_order.id, ..p.clone() }).collect(),
        photos: photo_rows,
        sign_off: Some(signed.clone()),
        notes: Vec::new(),
        template,
        work_order: work_order.clone(),
    };
    let customer = b.customers.iter().find(|c| c.id == work_order.customer_id).unwrap().clone();
    let site = b.sites.iter().find(|s| s.id == work_order.site_id).unwrap().clone();
    let asset = work_order.asset_id.and_then(|id| b.assets.iter().find(|a| a.id == id)).cloned();
    let technician = b.users.iter().find(|u| Some(u.id) == work_order.assignee).unwrap().clone();
    Sample { visit, customer, site, asset, technician, blobs }
}

impl Sample {
    pub fn report(&self, locale: &str) -> (ReportData, Vec<ReportImage>) {
        let blob = |id: &BlobId| self.blobs.get(id).cloned();
        ReportData::from_visit(&VisitSource {
            locale,
            company: if locale == "zh-CN" {
                "华东机电售后服务有限公司"
            } else {
                "East China M&E After-Sales Service Co."
            },
            visit: &self.visit,
            customer: &self.customer,
            site: &self.site,
            asset: self.asset.as_ref(),
            technician: &self.technician,
            zone: FixedOffset::east_opt(8 * 3600).unwrap(),
            // The sample's photos are kept as their thumbnails already, as the report shows them.
            thumbnail: &blob,
            blob: &blob,
            verification: None,
        })
    }
}
