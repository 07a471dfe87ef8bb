//! Indicators at the edge: the JSON API (dictionary, values, consolidation, campaigns,
//! imports) and the open data files; `xlsx` reads the first sheet of an uploaded workbook.

pub mod api;
pub mod xlsx;
