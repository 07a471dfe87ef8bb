//! Conventions and reciprocal commitments: who promised what to whom, by when, and was it
//! kept. Parties from the referential, commitments owned by one party with their follow-up,
//! the financial annex checked against its co-financing rules, amendments producing
//! numbered versions that can be compared, and a status always computed from the dates and
//! events (never stored). See `NOTES.md` beside this file.

pub mod alerts;
pub mod demo;
pub mod model;
pub mod repo;
pub mod service;

pub use model::*;
