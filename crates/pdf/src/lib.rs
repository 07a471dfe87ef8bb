//! PDF rendering: a Typst template plus JSON data in, the bytes of a tagged PDF/UA-1 file out.
//!
//! The crate knows nothing of the domain. A template is Typst markup; it reads its data from
//! `sys.inputs.data` (a JSON string, decoded with `json(bytes(sys.inputs.data))`) and may import
//! the shared style with `#import "gouvernail.typ": *`, which also exposes the decoded `data`.
//!
//! Nothing is read from the file system or the network: the fonts are those embedded by
//! `typst-assets` (loaded once per process), and the only files a template can reach are itself
//! and `gouvernail.typ`. Images come from the data, e.g. an SVG string passed to
//! `image(bytes(data.chart), format: "svg", alt: "…")`.
//!
//! Rendering is synchronous and CPU-bound (tens of milliseconds for a few pages): call it from
//! `tokio::task::spawn_blocking` in async code.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, PackageError, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Dict, Duration, Str, Value};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Feature, Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards};

/// Renders `template` (Typst markup) with `data` available to the template, returns PDF bytes.
///
/// The output is a tagged PDF that declares conformance to PDF/UA-1; Typst checks the rules it
/// can check (document title and language, alternative text of images, heading levels starting
/// at 1 without gaps) and refuses the document otherwise. The same template and data give the
/// same bytes: no clock is read (`datetime.today()` fails in templates; pass dates in `data`).
pub fn render(template: &str, data: &serde_json::Value) -> Result<Vec<u8>, PdfError> {
    let json = serde_json::to_string(data).map_err(|err| PdfError::Data(err.to_string()))?;
    let world = RenderWorld::new(template, json)?;
    let warned = typst::compile::<PagedDocument>(&world);
    let document = warned
        .output
        .map_err(|diags| PdfError::Compile(describe(&world, &diags)))?;
    let standards =
        PdfStandards::new(&[PdfStandard::Ua_1]).map_err(|err| PdfError::Export(err.message().to_string()))?;
    let options = PdfOptions {
        standards,
        ..PdfOptions::default()
    };
    let pdf = typst_pdf::pdf(&document, &options).map_err(|diags| PdfError::Export(describe(&world, &diags)));
    // Typst memoizes work in process-wide caches; evict what the last renders did not reuse,
    // so that a long-running server does not grow without bound.
    typst::comemo::evict(10);
    pdf
}

/// Why a PDF could not be rendered. Messages carry the Typst diagnostics, each with its file,
/// line and column (`main.typ:3:2: unknown variable: foo`), joined by newlines.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The data could not be serialized to JSON for the template.
    #[error("the data of the PDF could not be serialized: {0}")]
    Data(String),
    /// The template (or the shared style) does not compile, or failed while laid out.
    #[error("the PDF template failed: {0}")]
    Compile(String),
    /// The document was laid out but could not be written as PDF/UA-1.
    #[error("the PDF could not be exported: {0}")]
    Export(String),
}

/// The shared style, importable from templates as `#import "gouvernail.typ": *`.
const STYLE: &str = include_str!("../typst/gouvernail.typ");

/// The name of the template in diagnostics and the name of the shared style for imports.
const MAIN_PATH: &str = "/main.typ";
const STYLE_PATH: &str = "/gouvernail.typ";

/// The embedded fonts and their metadata, parsed once per process.
static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

/// Everything one compilation can see: the library (with the data in `sys.inputs`), the
/// template, the shared style and the embedded fonts.
struct RenderWorld {
    library: LazyHash<Library>,
    main: Source,
    style: Source,
}

impl RenderWorld {
    fn new(template: &str, json: String) -> Result<Self, PdfError> {
        let inputs: Dict = [(Str::from("data"), Value::Str(Str::from(json)))]
            .into_iter()
            .collect();
        let library = Library::builder()
            .with_inputs(inputs)
            // Enables `pdf.header-cell`, with which the key/value table marks its keys as row
            // headers for assistive technologies.
            .with_features([Feature::A11yExtras].into_iter().collect())
            .build();
        // File ids are interned for the life of the process (at most 2^16 of them): always the
        // same two paths, never `FileId::unique`.
        Ok(Self {
            library: LazyHash::new(library),
            main: Source::new(file_id(MAIN_PATH)?, template.to_owned()),
            style: Source::new(file_id(STYLE_PATH)?, STYLE.to_owned()),
        })
    }
}

fn file_id(path: &str) -> Result<FileId, PdfError> {
    let vpath = VirtualPath::new(path).map_err(|err| PdfError::Compile(format!("{path}: {err}")))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

impl World for RenderWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else if id == self.style.id() {
            Ok(self.style.clone())
        } else if let VirtualRoot::Package(spec) = id.root() {
            // No package is bundled and nothing is downloaded.
            Err(FileError::Package(PackageError::NotFound(spec.clone())))
        } else {
            Err(FileError::NotFound(id.vpath().get_without_slash().into()))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.source(id)
            .map(|source| Bytes::from_string(source.text().to_owned()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

/// Formats the errors among `diags` as `file:line:col: message (hint: …)`, one per line, each
/// followed by its trace (`  while calling `kv-table` at main.typ:12:1`).
fn describe(world: &RenderWorld, diags: &[SourceDiagnostic]) -> String {
    let mut lines = Vec::new();
    for diag in diags.iter().filter(|diag| diag.severity == Severity::Error) {
        let mut line = format!("{}{}", locate(world, diag.span), diag.message);
        for hint in &diag.hints {
            line.push_str(&format!(" (hint: {})", hint.v));
        }
        lines.push(line);
        for point in &diag.trace {
            lines.push(format!(
                "  {} at {}",
                point.v,
                locate(world, point.span.into()).trim_end_matches(": ")
            ));
        }
    }
    if lines.is_empty() {
        lines.push("unknown error".to_owned());
    }
    lines.join("\n")
}

/// `main.typ:3:2: ` for a span in a source, an empty string for a detached span.
fn locate(world: &RenderWorld, span: typst::syntax::DiagSpan) -> String {
    let Some(id) = span.id() else {
        return String::new();
    };
    let name = id.vpath().get_without_slash().to_owned();
    let position = world.range(span).and_then(|range| {
        let source = world.source(id).ok()?;
        source.lines().byte_to_line_column(range.start)
    });
    match position {
        Some((line, column)) => format!("{name}:{}:{}: ", line + 1, column + 1),
        None => format!("{name}: "),
    }
}
