//! Equipment: school inventories, the collectivités' plans, the needs of projects and actions,
//! and the gap analysis: the JSON API (`api`) and the pages (`pages`).

pub mod api;
pub mod pages;
