//! Times `render` on the sample document, for one page and for a 200-row table over several
//! pages: `cargo bench -p gouvernail-pdf --bench render`. Prints
//! - the first render of the process, which also parses the embedded fonts;
//! - the median of cold renders (Typst's memoization caches emptied before each one);
//! - the median of renders whose data change each time (the usual case in a server: the
//!   shared style and unchanged parts are reused from the caches).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

const SAMPLE: &str = include_str!("../tests/fixtures/sample.typ");
const CHART: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100"><rect x="10" y="40" width="40" height="60" fill="#000091"/><rect x="80" y="20" width="40" height="80" fill="#6a6af4"/></svg>"##;
const RUNS: usize = 15;

fn main() -> Result<(), gouvernail_pdf::PdfError> {
    for n_schools in [3, 200] {
        let start = Instant::now();
        let pdf = gouvernail_pdf::render(SAMPLE, &data(n_schools, 0))?;
        let first = start.elapsed();

        let mut cold = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            typst::comemo::evict(0);
            let start = Instant::now();
            gouvernail_pdf::render(SAMPLE, &data(n_schools, 0))?;
            cold.push(start.elapsed());
        }

        let mut varied = Vec::with_capacity(RUNS);
        for run in 1..=RUNS {
            let data = data(n_schools, run);
            let start = Instant::now();
            gouvernail_pdf::render(SAMPLE, &data)?;
            varied.push(start.elapsed());
        }

        println!(
            "sample, {n_schools:>3} rows, {} bytes: first render {first:.1?}, cold median {:.1?}, \
             changing data median {:.1?} ({RUNS} runs each)",
            pdf.len(),
            median(cold),
            median(varied),
        );
    }
    Ok(())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The sample's data; `variant` changes the reference and one name, as a new document would.
fn data(n_schools: usize, variant: usize) -> Value {
    let schools: Vec<Value> = (1..=n_schools)
        .map(|i| {
            json!({
                "uai": format!("0350{i:03}A"),
                "name": format!("Collège n° {i}"),
                "city": "Rennes",
                "status": if i % 2 == 0 { "Engagé" } else { "À venir" },
            })
        })
        .collect();
    json!({
        "title": "Convention « Réussite éducative » 2026",
        "subtitle": "Académie de Rennes",
        "reference": format!("CONV-2026-{variant:03}"),
        "generated_on": "30 novembre 2026",
        "project": "Lire, écrire, compter",
        "budget": "12 500 €",
        "academy": "Rennes",
        "owner": format!("Élodie Kerjean {variant}"),
        "status": { "label": "En cours", "kind": "success" },
        "chart": CHART,
        "chart_alt": "Histogramme de l’avancement par axe.",
        "schools": schools,
    })
}
