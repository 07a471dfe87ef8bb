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

/// An objective of the académie's own, under an axis, linked to a national objective where
/// one exists.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LocalObjective {
    pub id: String,
    pub roadmap_id: String,
    pub code: String,
    pub axis_title: String,
    pub title: String,
    pub description: String,
    pub national_objective_id: Option<String>,
    pub version: i64,
}

/// A new objective, or a change to one (absent fields stay as they are).
#[derive(Debug, Clone, Default)]
pub struct ObjectivePatch {
    pub axis_title: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// The national objective's id or code; `Some(None)` unlinks.
    pub national_objective: Option<Option<String>>,
}

/// An action of a roadmap as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Action {
    pub id: String,
    pub roadmap_id: String,
    pub code: String,
    pub declension_id: Option<String>,
    pub objective_id: Option<String>,
    pub title: String,
    pub description: String,
    pub pilote_user_id: Option<String>,
    pub pilote_team: Option<String>,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub status: String,
    pub progress: i64,
    pub risks: String,
    pub version: i64,
}

/// A milestone of an action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActionMilestone {
    pub label: String,
    pub due_date: Date,
    pub done: bool,
}

/// The funders a budget line may name.
pub const FUNDER_KINDS: &[&str] = &["etat", "collectivite", "ue", "operateur", "autre"];

/// A budget line: who pays how much in which year (exact cents, never floating point).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BudgetLine {
    pub funder_kind: String,
    pub funder_label: String,
    pub year: i64,
    pub amount_cents: i64,
}

/// The kinds of perimeter an action may target.
pub const SCOPE_KINDS: &[&str] = &["departement", "etablissement"];

/// One element of an action's perimeter: a département (code) or a school (UAI).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct ScopeItem {
    pub kind: String,
    pub code: String,
}

/// A partner organisation of an action.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Partner {
    pub id: String,
    pub nom: String,
}

/// An action as people read it: where it sits, who leads it, and whether it is late.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionView {
    pub action: Action,
    pub academie_code: String,
    /// The axis it belongs to (the national axis, or the académie's own).
    pub axis: String,
    /// What it declines or serves: a national project's or a local objective's code and title.
    pub parent_code: String,
    pub parent_title: String,
    pub pilote_name: Option<String>,
    pub pilote_email: Option<String>,
    pub milestones: Vec<ActionMilestone>,
    pub budget: Vec<BudgetLine>,
    pub partners: Vec<Partner>,
    pub scope: Vec<ScopeItem>,
    /// The départements the perimeter reaches (its own, and those of its schools).
    pub departements: Vec<String>,
    /// Codes of the actions this one depends on.
    pub depends_on: Vec<String>,
    /// Declared late, or past its end date or a milestone without being done.
    pub late: bool,
}

impl ActionView {
    /// The total budget in cents.
    pub fn budget_total(&self) -> i64 {
        self.budget.iter().map(|b| b.amount_cents).sum()
    }
}

/// Where an action hangs: a declined national project or an objective of the académie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionParent {
    /// A declension's id, or the declined national project's code.
    Declension(String),
    /// A local objective's id or code.
    Objective(String),
}

/// A new action, or a change to one: absent fields stay as they are; lists replace the
/// whole list when present.
#[derive(Debug, Clone, Default)]
pub struct ActionPatch {
    pub parent: Option<ActionParent>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// A user's id or e-mail; `Some(None)` clears.
    pub pilote_user: Option<Option<String>>,
    pub pilote_team: Option<Option<String>>,
    pub start_date: Option<Option<Date>>,
    pub end_date: Option<Option<Date>>,
    pub status: Option<String>,
    pub progress: Option<i64>,
    pub risks: Option<String>,
    pub milestones: Option<Vec<ActionMilestone>>,
    pub budget: Option<Vec<BudgetLine>>,
    /// Organisation ids.
    pub partners: Option<Vec<String>>,
    pub scope: Option<Vec<ScopeItem>>,
    /// Codes of other actions of the same roadmap.
    pub depends_on: Option<Vec<String>>,
}

/// Filters of an action list; all optional and combined with AND.
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    pub academie: Option<String>,
    /// Matches the axis' title.
    pub axis: Option<String>,
    pub status: Option<String>,
    /// A user id: the actions this person pilots.
    pub pilote: Option<String>,
    pub late: bool,
    /// Only the actions the requesting person pilots.
    pub mine: bool,
    /// A département code the perimeter reaches.
    pub departement: Option<String>,
    /// A school the perimeter names.
    pub uai: Option<String>,
    /// Words in the code, title or description.
    pub q: Option<String>,
}

/// An annual review of a roadmap.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Bilan {
    pub year: i64,
    pub summary: String,
    /// Counts of actions by status (JSON object).
    pub figures: String,
    pub author_id: String,
}
