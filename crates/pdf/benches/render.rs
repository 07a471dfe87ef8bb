//! Times `render` on the sample document: `cargo bench -p gouvernail-pdf` prints the first
//! render (which parses the embedded fonts) and the median of the next ones, for a one-page
//! document and for the same document with a 200-row table.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

const SAMPLE: &str = include_str!("../tests/fixtures/sample.typ");
const CHART: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100"><rect x="10" y="40" width="40" height="60" fill="#000091"/><rect x="80" y="20" width="40" height="80" fill="#6a6af4"/></svg>"##;
const RUNS: usize = 15;

fn main() -> Result<(), gouvernail_pdf::PdfError> {
    for n_schools in [3, 200] {
        let data = data(n_schools);
        let start = Instant::now();
        let pdf = gouvernail_pdf::render(SAMPLE, &data)?;
        let first = start.elapsed();
        let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let start = Instant::now();
            gouvernail_pdf::render(SAMPLE, &data)?;
            times.push(start.elapsed());
        }
        times.sort();
        println!(
            "sample with {n_schools:>3} rows: {} bytes, first render {first:.1?}, median of {RUNS} {:.1?} (min {:.1?}, max {:.1?})",
            pdf.len(),
            times[RUNS / 2],
            times[0],
            times[RUNS - 1],
        );
    }
    Ok(())
}

fn data(n_schools: usize) -> Value {
    let schools: Vec<Value> = (1..=n_schools)
        .map(|i| json!({ "uai": format!("0350{i:03}A"), "name": format!("Collège n° {i}"), "city": "Rennes", "status": "Engagé" }))
        .collect();
    json!({
        "title": "Convention « Réussite éducative » 2026",
        "subtitle": "Académie de Rennes",
        "reference": "CONV-2026-042",
        "generated_on": "30 novembre 2026",
        "project": "Lire, écrire, compter",
        "budget": "12 500 €",
        "academy": "Rennes",
        "owner": "Élodie Kerjean",
        "status": { "label": "En cours", "kind": "success" },
        "chart": CHART,
        "chart_alt": "Histogramme de l’avancement par axe.",
        "schools": schools,
    })
}
