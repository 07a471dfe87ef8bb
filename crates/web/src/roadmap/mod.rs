//! Academic roadmaps and declension on the web (JSON API).

pub mod action_pages;
pub mod actions_api;
pub mod api;
pub mod pages;
#[cfg(feature = "pdf")]
pub mod pdf;
