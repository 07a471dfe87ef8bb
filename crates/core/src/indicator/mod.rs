//! Indicators: the shared dictionary (national, and the académies' own), baselines and
//! targets, values per perimeter and period with their workflow (entered → validated →
//! locked), consolidation up the territory, reporting campaigns with their mails, imports of
//! spreadsheets, and the open data of the public indicators. See `NOTES.md`.

pub mod campaign;
pub mod computed;
pub mod consolidate;
pub mod dashboard;
pub mod demo;
pub mod import;
pub mod model;
pub mod opendata;
pub mod repo;
pub mod service;

pub use model::*;
