//! The national strategy on the web: JSON API and public pages.

pub mod api;
pub mod pages;
