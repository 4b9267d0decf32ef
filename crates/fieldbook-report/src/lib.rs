//! Fieldbook's visit report, typeset to PDF by Typst.
//!
//! The layout is a Typst template (`templates/visit-report.typ`, built in; a service company
//! can give its own), the report's data reaches it as `/data.json` ([`ReportData`]) and its
//! photos and signature as images. Fonts are loaded once ([`Fonts`]); Typst embeds only the
//! glyphs a report uses (a subset), so a Chinese report carries a few hundred kilobytes of
//! Noto Sans CJK, not its 20 MB.

mod data;
pub mod monthly;
mod world;

use std::path::{Path, PathBuf};

use typst::Library;
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst_layout::PagedDocument;

pub use data::*;

/// The name of the signed report's JSON attached to a signed report's PDF.
pub const SIGNED_REPORT_FILE: &str = "fieldbook-signed-report.json";

/// The built-in report template.
pub const DEFAULT_TEMPLATE: &str = include_str!("../templates/visit-report.typ");

/// Where the report's fonts are looked for when `FIELDBOOK_FONT_DIR` is not set: Debian's
/// fonts-noto-cjk (installed by `./dev`).
pub const FONT_DIRS: &[&str] = &["/usr/share/fonts/opentype/noto", "/usr/share/fonts/opentype/noto-cjk"];

/// The font files a report needs: Noto Sans CJK (Chinese, and Latin text too), regular and bold.
pub const FONT_FILES: &[&str] = &["NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"];

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the report font {file} was not found in {searched}; install fonts-noto-cjk or set FIELDBOOK_FONT_DIR")]
    FontMissing { file: &'static str, searched: String },
    #[error("reading the report font {path}: {source}")]
    FontUnreadable { path: PathBuf, source: std::io::Error },
    #[error("the report template failed: {0}")]
    Template(String),
    #[error("writing the PDF failed: {0}")]
    Pdf(String),
    #[error("this file is not a PDF that can be read: {0}")]
    NotAPdf(String),
    #[error("drawing the preview failed: {0}")]
    Preview(String),
    #[error("drawing a chart failed: {0}")]
    Chart(String),
    #[error("writing the CSV failed: {0}")]
    Csv(String),
    #[error("the report data could not be encoded: {0}")]
    Data(#[from] serde_json::Error),
}

/// The fonts reports are typeset with, parsed once and shared by every report.
pub struct Fonts {
    fonts: Vec<Font>,
    book: LazyHash<FontBook>,
    library: LazyHash<Library>,
}

impl Fonts {
    /// Loads the report fonts from `FIELDBOOK_FONT_DIR`, else from [`FONT_DIRS`].
    pub fn load() -> Result<Fonts, ReportError> {
        let dirs: Vec<PathBuf> = match std::env::var_os("FIELDBOOK_FONT_DIR") {
            Some(dir) => vec![dir.into()],
            None => FONT_DIRS.iter().map(PathBuf::from).collect(),
        };
        Self::load_from(&dirs)
    }

    pub fn load_from(dirs: &[PathBuf]) -> Result<Fonts, ReportError> {
        let mut fonts = Vec::new();
        for file in FONT_FILES {
            let path = dirs.iter().map(|dir| dir.join(file)).find(|p| p.is_file()).ok_or_else(|| {
                ReportError::FontMissing {
                    file,
                    searched: dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "),
                }
            })?;
            fonts.extend(Font::iter(typst::foundations::Bytes::new(read(&path)?)));
        }
        let book = LazyHash::new(FontBook::from_fonts(&fonts));
        Ok(Fonts { fonts, book, library: world::library() })
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ReportError> {
    std::fs::read(path).map_err(|source| ReportError::FontUnreadable { path: path.to_owned(), source })
}

/// Typesets a report with `template` (Typst markup reading `/data.json`) to PDF bytes. The
/// same data, images and template always give the same bytes.
pub fn render(
    fonts: &Fonts,
    template: &str,
    data: &ReportData,
    images: &[ReportImage],
) -> Result<Vec<u8>, ReportError> {
    typeset(fonts, template, serde_json::to_vec(data)?, &visit_files(data, images), &data.number)
}

/// A visit report's images, and the signed report its PDF carries when it carries one.
fn visit_files(data: &ReportData, images: &[ReportImage]) -> Vec<ReportImage> {
    let mut files = images.to_vec();
    if let Some(signed) = data.verification.as_ref().and_then(|v| v.signed_report.clone()) {
        files.push(ReportImage { path: format!("/{SIGNED_REPORT_FILE}"), bytes: signed });
    }
    files
}

/// Typesets `template` with `data` as `/data.json` and `files` beside it.
fn compile(fonts: &Fonts, template: &str, data: Vec<u8>, files: &[ReportImage]) -> Result<PagedDocument, ReportError> {
    let files = std::iter::once(("/data.json".to_owned(), data))
        .chain(files.iter().map(|file| (file.path.clone(), file.bytes.clone())));
    let world = world::ReportWorld::new(&fonts.library, &fonts.book, &fonts.fonts, template, files);
    typst::compile(&world).output.map_err(|errors| {
        ReportError::Template(errors.iter().map(|e| world.describe(e)).collect::<Vec<_>>().join("; "))
    })
}

/// Typesets `template` with `data` as `/data.json` and `files` beside it, to PDF.
pub(crate) fn typeset(
    fonts: &Fonts,
    template: &str,
    data: Vec<u8>,
    files: &[ReportImage],
    ident: &str,
) -> Result<Vec<u8>, ReportError> {
    let document = compile(fonts, template, data, files)?;
    let options =
        typst_pdf::PdfOptions { ident: typst::foundations::Smart::Custom(ident.to_owned()), ..Default::default() };
    let pdf = typst_pdf::pdf(&document, &options).map_err(|errors| {
        ReportError::Pdf(errors.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("; "))
    });
    // Typst memoizes its work across calls; keep what the last few reports used (the template,
    // shaped words) and drop the rest, so a long-running app does not grow with every report.
    comemo::evict(10);
    pdf
}

/// The report's pages as PNG images at `pixel_per_pt` pixels per point (1.5 reads well on a
/// tablet): the same typeset document the PDF is written from, for a preview in the app.
pub fn preview(
    fonts: &Fonts,
    template: &str,
    data: &ReportData,
    images: &[ReportImage],
    pixel_per_pt: f64,
) -> Result<Vec<Vec<u8>>, ReportError> {
    if !(0.25..=4.0).contains(&pixel_per_pt) {
        return Err(ReportError::Preview(format!("it is drawn at 0.25 to 4 pixels per point, not {pixel_per_pt}")));
    }
    let document = compile(fonts, template, serde_json::to_vec(data)?, &visit_files(data, images))?;
    let options = typst_render::RenderOptions { pixel_per_pt: pixel_per_pt.into(), ..Default::default() };
    let pages = document
        .pages()
        .iter()
        .map(|page| typst_render::render(page, &options).encode_png().map_err(|e| ReportError::Preview(e.to_string())))
        .collect();
    comemo::evict(10);
    pages
}

/// The signed report a Fieldbook PDF carries (see [`Verification::of`]), if it carries one.
pub fn signed_report_in_pdf(pdf: &[u8]) -> Result<Option<fieldbook_domain::evidence::SignedReport>, ReportError> {
    let document = lopdf::Document::load_mem(pdf).map_err(|e| ReportError::NotAPdf(e.to_string()))?;
    for object in document.objects.values() {
        let Ok(stream) = object.as_stream() else { continue };
        let is_embedded_file = stream.dict.get(b"Type").and_then(|t| t.as_name()).is_ok_and(|t| t == b"EmbeddedFile");
        if !is_embedded_file {
            continue;
        }
        let content = stream.decompressed_content().unwrap_or_else(|_| stream.content.clone());
        if let Ok(signed) = serde_json::from_slice(&content) {
            return Ok(Some(signed));
        }
    }
    Ok(None)
}

/// Drops everything Typst memoized, so the next report is typeset from scratch (benchmarks).
pub fn forget_cached_work() {
    comemo::evict(0);
}
