//! Academic roadmaps (feuilles de route) and the declension of national projects: each
//! académie declines a national project into its roadmap, keeps a live link to it, adapts
//! it locally, and reviews every national change (accept, or keep its own version with a
//! reason) instead of being silently overwritten.

pub mod actions;
pub mod lifecycle;
pub mod model;
pub mod repo;
pub mod service;
