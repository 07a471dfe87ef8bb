//! Academic roadmaps and declension on the web (JSON API).

pub mod api;
pub mod pages;
