//! The national strategy: strategies (by period), axes, objectives (chantiers) and national
//! projects. The national level writes it (administrators, national project leads); a
//! published strategy is public. Académie roadmaps (declension) build on it.

pub mod model;
pub mod repo;
pub mod service;
