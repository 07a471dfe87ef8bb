//! Renders real documents and reads them back: the text through hayro (a pure-Rust PDF
//! interpreter already in typst's tree), the metadata through the XMP packet.

use gouvernail_pdf::{PdfError, render};
use hayro_interpret::font::Glyph;
use hayro_interpret::hayro_cmap::BfString;
use hayro_interpret::hayro_syntax::Pdf;
use hayro_interpret::{
    BlendMode, ClipPath, Context, Device, GlyphDrawMode, Image, InterpreterCache, InterpreterSettings, Paint,
    PathDrawMode, SoftMask, interpret_page,
};
use kurbo::{Affine, BezPath, Rect};
use serde_json::{Value, json};

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

const SAMPLE: &str = include_str!("fixtures/sample.typ");

const CHART: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100" role="img">
  <title>Avancement</title>
  <rect x="10" y="40" width="40" height="60" fill="#000091"/>
  <rect x="80" y="20" width="40" height="80" fill="#6a6af4"/>
  <rect x="150" y="60" width="40" height="40" fill="#cacafb"/>
</svg>"##;

fn sample_data(n_schools: usize) -> Value {
    let schools: Vec<Value> = (1..=n_schools)
        .map(|i| {
            json!({
                "uai": format!("0350{i:03}A"),
                "name": format!("Collège n° {i} « Les Îles »"),
                "city": "Saint-Malo",
                "status": if i % 2 == 0 { "Engagé" } else { "À venir" },
            })
        })
        .collect();
    json!({
        "title": "Convention « Réussite éducative » 2026",
        "subtitle": "Académie de Rennes — déclinaison du projet national",
        "reference": "CONV-2026-042",
        "generated_on": "30 novembre 2026",
        "project": "Lire, écrire, compter",
        "budget": "12 500 €",
        "academy": "Rennes",
        "owner": "Élodie Kerjean",
        "status": { "label": "En cours", "kind": "success" },
        "chart": CHART,
        "chart_alt": "Histogramme : axe 1 à 60 %, axe 2 à 80 %, axe 3 à 40 %.",
        "schools": schools,
    })
}

#[test]
fn sample_document_has_its_text_in_french() -> R {
    let pdf = render(SAMPLE, &sample_data(3))?;
    assert!(pdf.starts_with(b"%PDF-"));

    let pages = extract(&pdf)?;
    let text: String = pages.iter().map(|page| squeeze(&page.text)).collect();
    for expected in [
        "RÉPUBLIQUEFRANÇAISE",
        "Ministèredel’Éducationnationale",
        "Convention«Réussiteéducative»2026",
        "AcadémiedeRennes—déclinaisonduprojetnational",
        "RéférenceCONV-2026-042",
        "Leprojet«Lire,écrire,compter»",
        "12500€",
        "ÉlodieKerjean",
        "ENCOURS",
        "Collègen°2«LesÎles»",
        "Tauxd’avancementparaxe",
        "FaitàRennes,le30novembre2026",
        "Larectriced’académieÉlodieKerjean",
        "Généréle30novembre2026",
        &format!("Page1/{}", pages.len()),
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text:?}");
    }
    Ok(())
}

#[test]
fn a_long_table_spans_pages_and_repeats_its_header() -> R {
    let pdf = render(SAMPLE, &sample_data(200))?;
    let pages = extract(&pdf)?;
    let n_pages = pages.len();
    assert!(n_pages >= 5, "200 rows should take several pages, got {n_pages}");

    for (idx, page) in pages.iter().enumerate() {
        let text = squeeze(&page.text);
        assert!(
            text.contains(&format!("Page{}/{n_pages}", idx + 1)),
            "page {idx}: {text:?}"
        );
        // Every page after the first one starts the table with its header row again.
        if idx > 0 && idx + 1 < n_pages {
            assert!(
                text.contains("UAINomCommuneStatut"),
                "no repeated header on page {idx}: {text:?}"
            );
        }
    }
    let all: String = pages.iter().map(|page| squeeze(&page.text)).collect();
    assert!(all.contains("0350001A") && all.contains("0350200A") && all.contains("Collègen°200"));
    Ok(())
}

#[test]
fn an_svg_from_the_data_is_drawn_as_vector_paths() -> R {
    let template = r#"#import "gouvernail.typ": *
#show: doc-setup.with(title: "SVG")
#image(bytes(data.chart), format: "svg", width: 5cm, alt: "Trois barres")"#;
    let with_chart = render(template, &json!({ "chart": CHART }))?;
    let empty = r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"></svg>"#;
    let without_chart = render(template, &json!({ "chart": empty }))?;

    // The three bars of the chart are three more filled paths than the page frame alone.
    let paths = |pdf: &[u8]| -> R<usize> { Ok(extract(pdf)?.iter().map(|page| page.n_paths).sum()) };
    assert_eq!(paths(&with_chart)?, paths(&without_chart)? + 3);
    Ok(())
}

#[test]
fn a_broken_svg_is_an_error_not_a_panic() {
    let template = r#"#import "gouvernail.typ": *
#show: doc-setup.with(title: "SVG")
#image(bytes(data.chart), format: "svg", alt: "Rien")"#;
    let err = render(template, &json!({ "chart": "<svg" })).expect_err("invalid SVG");
    assert!(matches!(err, PdfError::Compile(_)), "{err:?}");
    assert!(err.to_string().contains("main.typ:3:"), "{err}");
}

#[test]
fn a_broken_template_names_the_line_and_the_problem() {
    let template = "#import \"gouvernail.typ\": *\n#show: doc-setup.with(title: \"Erreur\")\n\n#kv-table(data.missing)\n";
    let err = render(template, &json!({ "present": 1 })).expect_err("the key does not exist");
    let message = err.to_string();
    assert!(matches!(err, PdfError::Compile(_)), "{err:?}");
    assert!(message.contains("main.typ:4:"), "{message}");
    assert!(message.contains("does not contain key \"missing\""), "{message}");

    let err = render("#let x = (1, 2\n", &json!(null)).expect_err("syntax error");
    assert!(err.to_string().contains("main.typ:1:"), "{err}");
}

#[test]
fn an_error_inside_the_shared_style_points_at_the_call() {
    let template = "#import \"gouvernail.typ\": *\n#show: doc-setup.with(title: \"Erreur\")\n#data-table((\"A\",), 42)\n";
    let message = render(template, &json!({}))
        .expect_err("rows must be an array")
        .to_string();
    assert!(message.contains("gouvernail.typ:"), "{message}");
    assert!(
        message.contains("while calling `data-table` at main.typ:3:"),
        "{message}"
    );
}

#[test]
fn output_declares_pdf_ua_1_with_its_title_and_language() -> R {
    let pdf = render(SAMPLE, &sample_data(3))?;
    let xmp = xmp(&pdf)?;
    assert!(xmp.contains("<pdfuaid:part>1</pdfuaid:part>"), "{xmp}");
    assert!(xmp.contains("Convention « Réussite éducative » 2026"), "{xmp}");
    assert!(xmp.contains("fr-FR") || xmp.contains("\"fr\""), "{xmp}");
    let pdf = String::from_utf8_lossy(&pdf);
    assert!(pdf.contains("/MarkInfo"), "not a tagged PDF");
    assert!(pdf.contains("/StructTreeRoot"), "no structure tree");
    Ok(())
}

#[test]
fn pdf_ua_rules_are_enforced() {
    let no_title = render("#set text(lang: \"fr\")\nBonjour", &json!({}));
    let message = no_title.expect_err("PDF/UA-1 needs a title").to_string();
    assert!(message.contains("missing document title"), "{message}");

    let no_alt = "#import \"gouvernail.typ\": *\n#show: doc-setup.with(title: \"T\")\n#image(bytes(data.chart), format: \"svg\")\n";
    let message = render(no_alt, &json!({ "chart": CHART }))
        .expect_err("images need alt text")
        .to_string();
    assert!(message.contains("alt"), "{message}");
}

#[test]
fn same_input_gives_the_same_bytes() -> R {
    let first = render(SAMPLE, &sample_data(3))?;
    let second = render(SAMPLE, &sample_data(3))?;
    assert!(first == second, "two renders of the same input differ");
    Ok(())
}

#[test]
fn helpers_accept_empty_and_missing_values() -> R {
    let template = r#"#import "gouvernail.typ": *
#show: doc-setup.with(title: "Vide")
= Vide
#data-table(("A", "B"), ())
#data-table(("A", "B"), ((a: 1, b: none),))
#kv-table((:))
#kv-table((clé: "valeur", nombre: 3.5))
#pill("inconnu", kind: "nope")
#signature-block(())
"#;
    let pdf = render(template, &json!({}))?;
    let text: String = extract(&pdf)?.iter().map(|page| squeeze(&page.text)).collect();
    assert!(
        text.contains("valeur") && text.contains("3.5") && text.contains("INCONNU"),
        "{text}"
    );
    Ok(())
}

/// What the interpreter saw on one page.
#[derive(Debug, Default)]
struct PageContent {
    text: String,
    n_paths: usize,
}

/// Reads back every page of `pdf`, with a newline between glyphs on different lines.
fn extract(pdf: &[u8]) -> R<Vec<PageContent>> {
    let pdf = Pdf::new(pdf.to_vec()).map_err(|err| format!("not a valid PDF: {err:?}"))?;
    let cache = InterpreterCache::new();
    let pages = pdf
        .pages()
        .iter()
        .map(|page| {
            let mut context = Context::new(
                Affine::IDENTITY,
                Rect::new(0.0, 0.0, 1.0, 1.0),
                &cache,
                pdf.xref(),
                InterpreterSettings::default(),
            );
            let mut collector = Collector::default();
            interpret_page(page, &mut context, &mut collector);
            collector.page
        })
        .collect();
    Ok(pages)
}

/// The text without whitespace, so that assertions do not depend on how spaces are encoded.
fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The XMP metadata packet, which PDF/UA requires and which is stored uncompressed.
fn xmp(pdf: &[u8]) -> R<String> {
    let text = String::from_utf8_lossy(pdf);
    let start = text.find("<x:xmpmeta").ok_or("no XMP packet")?;
    let end = text[start..]
        .find("</x:xmpmeta>")
        .ok_or("no end to the XMP packet")?;
    Ok(text[start..start + end].to_owned())
}

#[derive(Default)]
struct Collector {
    page: PageContent,
    last_y: Option<f64>,
}

impl Device<'_> for Collector {
    fn set_soft_mask(&mut self, _: Option<SoftMask<'_>>) {}

    fn set_blend_mode(&mut self, _: BlendMode) {}

    fn draw_path(&mut self, _: &BezPath, _: Affine, _: &Paint<'_>, _: &PathDrawMode) {
        self.page.n_paths += 1;
    }

    fn push_clip_path(&mut self, _: &ClipPath) {}

    fn push_transparency_group(&mut self, _: f32, _: Option<SoftMask<'_>>, _: BlendMode) {}

    fn draw_glyph(
        &mut self,
        glyph: &Glyph<'_>,
        transform: Affine,
        glyph_transform: Affine,
        _: &Paint<'_>,
        _: &GlyphDrawMode,
    ) {
        let y = (transform * glyph_transform).translation().y;
        if self.last_y.is_some_and(|last| (last - y).abs() > 1.0) {
            self.page.text.push('\n');
        }
        self.last_y = Some(y);
        match glyph.as_unicode() {
            Some(BfString::Char(c)) => self.page.text.push(c),
            Some(BfString::String(s)) => self.page.text.push_str(&s),
            None => self.page.text.push('\u{fffd}'),
        }
    }

    fn draw_image(&mut self, _: Image<'_, '_>, _: Affine) {}

    fn pop_clip_path(&mut self) {}

    fn pop_transparency_group(&mut self) {}
}
