//! Indicators at the edge: the JSON API (dictionary, values, consolidation, campaigns,
//! imports) and the open data files; `xlsx` reads the first sheet of an uploaded workbook;
//! `pages` the dictionary, dashboards, maps, value entry, imports and campaigns; `pdf` the
//! report pack of the national steering committee.

pub mod api;
pub mod pages;
#[cfg(feature = "pdf")]
pub mod pdf;
pub mod xlsx;
