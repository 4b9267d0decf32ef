//! The Typst world of one report: the template as the only source, the report's data as
//! `/data.json`, its images under `/images/`, and the fonts given. Nothing is read from disk
//! while typesetting, and no package is fetched.

use std::collections::HashMap;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

pub(crate) struct ReportWorld<'a> {
    library: &'a LazyHash<Library>,
    book: &'a LazyHash<FontBook>,
    fonts: &'a [Font],
    main: Source,
    files: HashMap<FileId, Bytes>,
}

pub(crate) fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("report paths are valid virtual paths");
    FileId::new(RootedPath::new(VirtualRoot::Project, vpath))
}

pub(crate) fn library() -> LazyHash<Library> {
    LazyHash::new(Library::builder().build())
}

impl<'a> ReportWorld<'a> {
    pub(crate) fn new(
        library: &'a LazyHash<Library>,
        book: &'a LazyHash<FontBook>,
        fonts: &'a [Font],
        template: &str,
        files: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> Self {
        let main = Source::new(file_id("/report.typ"), template.to_owned());
        let files = files.into_iter().map(|(path, bytes)| (file_id(&path), Bytes::new(bytes))).collect();
        Self { library, book, fonts, main, files }
    }

    /// An error of the template in words, with the template's line where it has one, so
    /// whoever edits a template finds the mistake.
    pub(crate) fn describe(&self, error: &typst::diag::SourceDiagnostic) -> String {
        use typst::WorldExt;
        let line = (error.span.id() == Some(self.main.id()))
            .then(|| self.range(error.span))
            .flatten()
            .and_then(|range| self.main.lines().byte_to_line(range.start));
        match line {
            Some(line) => format!("line {}: {}", line + 1, error.message),
            None => error.message.to_string(),
        }
    }
}

impl World for ReportWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        self.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() { Ok(self.main.clone()) } else { Err(FileError::NotSource) }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            return Ok(Bytes::from_string(self.main.text().to_owned()));
        }
        self.files.get(&id).cloned().ok_or_else(|| FileError::NotFound(id.get().vpath().get_with_slash().into()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.get(index).cloned()
    }

    /// Reports carry their own dates; the template gets none from the clock, so the same
    /// visit always typesets to the same bytes.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}
