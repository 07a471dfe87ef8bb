//! The territory referential on the web: JSON API and pages.

pub mod api;
pub mod pages;
