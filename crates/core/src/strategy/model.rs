//! Strategy types.

use time::{Date, OffsetDateTime};

/// A strategy for a period (e.g. « Stratégie du numérique pour l'éducation 2023-2027 »).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Strategy {
    pub id: String,
    pub code: String,
    pub title: String,
    pub summary: String,
    pub period_start: Date,
    pub period_end: Option<Date>,
    /// `brouillon`, `publiee` or `archivee`.
    pub status: String,
    pub version: i64,
}

/// An axis of a strategy.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Axis {
    pub id: String,
    pub strategy_id: String,
    pub position: i64,
    pub title: String,
    pub description: String,
}

/// An objective (chantier) of an axis.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Objective {
    pub id: String,
    pub axis_id: String,
    pub position: i64,
    pub code: String,
    pub title: String,
    pub description: String,
}

/// A national project, under one objective.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NationalProject {
    pub id: String,
    pub objective_id: String,
    pub code: String,
    pub title: String,
    pub description: String,
    pub goals: String,
    pub pilote_team: String,
    pub audiences: String,
    /// Budget envelope in euro cents.
    pub budget_cents: Option<i64>,
    /// Indicator codes, space-separated.
    pub indicator_codes: String,
    /// `en-preparation`, `publie`, `en-cours`, `termine` or `abandonne`.
    pub status: String,
    pub version: i64,
    pub updated_at: OffsetDateTime,
}

impl NationalProject {
    /// The indicator codes as a list.
    pub fn indicators(&self) -> Vec<String> {
        self.indicator_codes
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    /// The audit view.
    pub fn audit_json(&self, milestones: &[Milestone]) -> serde_json::Value {
        serde_json::json!({
            "code": self.code, "titre": self.title, "description": self.description, "objectifs": self.goals,
            "pilote": self.pilote_team, "publics": self.audiences, "budgetCentimes": self.budget_cents,
            "indicateurs": self.indicators(), "statut": self.status, "version": self.version,
            "jalons": milestones.iter().map(|m| serde_json::json!({"libelle": m.label, "echeance": m.due.to_string()})).collect::<Vec<_>>(),
        })
    }
}

/// A milestone of a national project.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Milestone {
    pub id: String,
    pub project_id: String,
    pub position: i64,
    pub label: String,
    pub due: Date,
}

/// A national project with its milestones and where it sits in the strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectDetail {
    pub project: NationalProject,
    pub milestones: Vec<Milestone>,
    pub objective: Objective,
    pub strategy: Strategy,
}

/// A whole strategy: axes → objectives → projects.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyTree {
    pub strategy: Strategy,
    pub axes: Vec<AxisTree>,
}

/// An axis with its objectives.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisTree {
    pub axis: Axis,
    pub objectives: Vec<ObjectiveTree>,
}

/// An objective with its projects.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectiveTree {
    pub objective: Objective,
    pub projects: Vec<NationalProject>,
}

/// A new strategy, written whole.
#[derive(Debug, Clone, Default)]
pub struct NewStrategy {
    pub code: String,
    pub title: String,
    pub summary: String,
    pub period_start: Option<Date>,
    pub period_end: Option<Date>,
    pub axes: Vec<NewAxis>,
}

/// A new axis with its objectives.
#[derive(Debug, Clone, Default)]
pub struct NewAxis {
    pub title: String,
    pub description: String,
    pub objectives: Vec<NewObjective>,
}

/// A new objective.
#[derive(Debug, Clone, Default)]
pub struct NewObjective {
    pub code: String,
    pub title: String,
    pub description: String,
}

/// A new national project.
#[derive(Debug, Clone, Default)]
pub struct NewProject {
    pub objective_id: String,
    pub code: String,
    pub title: String,
    pub description: String,
    pub goals: String,
    pub pilote_team: String,
    pub audiences: String,
    pub budget_cents: Option<i64>,
    pub indicator_codes: Vec<String>,
    pub milestones: Vec<(String, Date)>,
}

/// A change to a national project; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct ProjectPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub goals: Option<String>,
    pub pilote_team: Option<String>,
    pub audiences: Option<String>,
    pub budget_cents: Option<Option<i64>>,
    pub indicator_codes: Option<Vec<String>>,
    pub status: Option<String>,
    pub milestones: Option<Vec<(String, Date)>>,
}

/// The statuses of a national project.
pub const PROJECT_STATUSES: &[&str] = &["en-preparation", "publie", "en-cours", "termine", "abandonne"];
