//! Roadmap types.

use time::Date;

use crate::strategy::model::NationalProject;

/// An académie's roadmap for one strategy.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Roadmap {
    pub id: String,
    pub academie_code: String,
    pub strategy_id: String,
    pub title: String,
    pub status: String,
    pub version: i64,
}

/// A national project declined in a roadmap (its local adaptation as stored).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Declension {
    pub id: String,
    pub roadmap_id: String,
    pub national_project_id: Option<String>,
    pub national_version: Option<i64>,
    pub follows_national: bool,
    pub national_snapshot: Option<String>,
    pub review_reason: Option<String>,
    pub title: Option<String>,
    pub local_pilote: Option<String>,
    pub local_target: Option<String>,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub not_applicable: bool,
    pub justification: Option<String>,
    pub status: String,
    pub progress: i64,
    pub version: i64,
}

/// What was declined, as people read it: the national text (live or kept), the local
/// adaptations, and whether a national change awaits review.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclensionView {
    pub declension: Declension,
    pub academie_code: String,
    pub project: NationalProject,
    /// The national title as this académie follows it (live, or the kept version).
    pub national_title: String,
    /// The national goals and lead team, likewise.
    pub national_goals: String,
    pub national_pilote: String,
    /// The title in force in the académie (its adaptation, else the national one).
    pub title: String,
    /// True when the national project changed since the académie last reviewed it.
    pub to_review: bool,
}

impl DeclensionView {
    /// A short state for the national view.
    pub fn state(&self) -> &'static str {
        if self.declension.not_applicable {
            "non-applicable"
        } else if self.to_review {
            "a-revoir"
        } else if !self.declension.follows_national {
            "version-locale"
        } else {
            match self.declension.status.as_str() {
                "en-cours" => "en-cours",
                "termine" => "termine",
                "en-retard" => "en-retard",
                "abandonne" => "abandonne",
                _ => "decline",
            }
        }
    }
}

/// An académie's roadmap and what it declined.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadmapView {
    pub academie_code: String,
    pub roadmap: Option<Roadmap>,
    pub declensions: Vec<DeclensionView>,
}

/// A local change to a declension; absent fields stay as they are, `Some(None)` clears an
/// adaptation (back to the national text).
#[derive(Debug, Clone, Default)]
pub struct DeclensionPatch {
    pub title: Option<Option<String>>,
    pub local_pilote: Option<Option<String>>,
    pub local_target: Option<Option<String>>,
    pub start_date: Option<Option<Date>>,
    pub end_date: Option<Option<Date>>,
    pub not_applicable: Option<bool>,
    pub justification: Option<Option<String>>,
    pub status: Option<String>,
    pub progress: Option<i64>,
}

/// The answer to a national change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    /// Follow the national project as it now is.
    Accept,
    /// Keep the version the académie had, for this reason.
    Keep(String),
}

/// The statuses of a declined action.
pub const STATUSES: &[&str] = &["non-commence", "en-cours", "termine", "en-retard", "abandonne"];

/// One académie's line in the national view of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct AcademieState {
    pub academie_code: String,
    pub academie_nom: String,
    /// `non-decline`, `decline`, `en-cours`, `termine`, `en-retard`, `abandonne`,
    /// `non-applicable`, `a-revoir` or `version-locale`.
    pub state: String,
    pub progress: Option<i64>,
    pub reason: Option<String>,
}
