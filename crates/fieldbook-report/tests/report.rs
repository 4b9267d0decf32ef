//! Visit reports typeset by the real template with the real fonts, read back with poppler's
//! `pdftotext` (package poppler-utils, installed by `./dev`).

mod support;

use std::process::Command;

use fieldbook_report::{DEFAULT_TEMPLATE, Fonts, ReportError, render};
use support::sample;

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext runs (install poppler-utils)");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The text without the spaces and line breaks layout puts between characters.
fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn a_chinese_report_carries_the_customer_the_checklist_and_the_sign_off_as_text() {
    let s = sample(3);
    let fonts = Fonts::load().unwrap();
    let (data, images) = s.report("zh-CN");
    let pdf = render(&fonts, DEFAULT_TEMPLATE, &data, &images).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = squeezed(&pdftotext(&pdf));
    for expected in ["现场服务报告", "客户签认", "四无", &data.number, &data.customer, &data.site] {
        assert!(text.contains(&squeezed(expected)), "{expected} is missing from:\n{text}");
    }
    let group = &data.checklist[0];
    assert!(text.contains(&squeezed(&group.items[0].label)), "{}", group.items[0].label);
    let abnormal = data.checklist.iter().flat_map(|g| &g.items).find(|i| i.assessment == "abnormal").unwrap();
    assert!(text.contains(&squeezed(&abnormal.note)), "the abnormal item's note");
    let sign = data.sign_off.as_ref().unwrap();
    assert!(text.contains(&squeezed(&sign.signer)));
    assert!(text.contains(&squeezed(&data.parts[0].name)));
    assert!(text.contains(&squeezed(&data.faults[0].cause)));
    assert!(text.contains(&squeezed(&data.technician)));
    // The photos and the signature are embedded images (poppler's pdfimages lists them).
    assert_eq!(embedded_images(&pdf), images.len(), "each photo and the signature once");
    // The CJK font is embedded as a subset, far smaller than the 20 MB font files.
    assert!(pdf.len() < 2_000_000, "{} bytes", pdf.len());
}

#[test]
fn an_english_report_words_everything_in_english() {
    let s = sample(2);
    let fonts = Fonts::load().unwrap();
    let (data, images) = s.report("en");
    let pdf = render(&fonts, DEFAULT_TEMPLATE, &data, &images).unwrap();
    let text = squeezed(&pdftotext(&pdf));
    for expected in ["Fieldservicereport", "Customersign-off", "Inspection", "Partsused", "Listen"] {
        assert!(text.contains(expected), "{expected} is missing from:\n{text}");
    }
    assert!(!text.contains("现场服务报告"));
    // The one abnormal answer is worded as such; every other answer is normal.
    assert_eq!(text.matches("Abnormal").count(), 1, "{text}");
    let item = &data.checklist[0].items[0].label;
    assert!(text.contains(&squeezed(item)), "{item}");
}

#[test]
fn the_same_visit_always_typesets_to_the_same_bytes() {
    let s = sample(1);
    let fonts = Fonts::load().unwrap();
    let (data, images) = s.report("zh-CN");
    let first = render(&fonts, DEFAULT_TEMPLATE, &data, &images).unwrap();
    let second = render(&fonts, DEFAULT_TEMPLATE, &data, &images).unwrap();
    assert_eq!(first, second);
}

#[test]
fn a_broken_template_or_missing_fonts_are_clear_errors() {
    let s = sample(0);
    let fonts = Fonts::load().unwrap();
    let (data, images) = s.report("en");
    let err = render(&fonts, "#let x = (", &data, &images).unwrap_err();
    assert!(matches!(err, ReportError::Template(_)), "{err}");
    let err = render(&fonts, "#image(\"/images/none.png\")", &data, &images).unwrap_err();
    assert!(err.to_string().contains("not found") || err.to_string().contains("none.png"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let err = Fonts::load_from(&[empty.path().to_owned()]).err().expect("no fonts there");
    assert!(err.to_string().contains("fonts-noto-cjk"), "{err}");
}

/// How many images (not soft masks) `pdfimages -list` finds in the PDF.
fn embedded_images(pdf: &[u8]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdfimages").args(["-list", path.to_str().unwrap()]).output().expect("pdfimages runs");
    let list = String::from_utf8(out.stdout).unwrap();
    list.lines().skip(2).filter(|line| line.split_whitespace().nth(2) == Some("image")).count()
}
