//! Equipment: school inventories, the collectivités' plans, the needs of projects and actions,
//! and the gap analysis (API; the pages come later).

pub mod api;
