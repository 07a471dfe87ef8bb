//! The territory referential: régions, régions académiques, académies (with their
//! history), départements, communes, collectivités with their school competences, and
//! schools by UAI with the collectivité legally competent for their equipment.

pub mod ids;
pub mod import;
pub mod model;
pub mod repo;
pub mod service;
pub mod sources;
