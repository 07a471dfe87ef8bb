//! Equipment, acquisition and maintenance: where the collectivités' plans meet the
//! pedagogical projects that need them. The inventory of each school by category (ETIC-style
//! counts, each figure dated and sourced, history kept), pupil counts imported from the
//! ministry's open data, the collectivités' acquisition and maintenance plans, the needs of
//! national projects and roadmap actions, and the gap analysis between them, one streamed
//! read over a perimeter. See `NOTES.md` beside this file.

pub mod demo;
pub mod gaps;
pub mod import;
pub mod model;
pub mod repo;
pub mod service;
pub mod views;

pub use model::*;
