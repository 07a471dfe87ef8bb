//! Local passwords: argon2id hashes, a length rule without composition rules, a list of
//! common passwords shipped in the binary, and throttling of failed logins.

use std::sync::LazyLock;

use crate::error::{CoreError, CoreResult, FieldError};

/// The shortest password accepted (ANSSI / CNIL: length over composition).
pub const MIN_LENGTH: usize = 12;
/// The longest password accepted (argon2 input is bounded).
pub const MAX_LENGTH: usize = 256;

static COMMON: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut list: Vec<String> = include_str!("../../data/common-passwords.txt")
        .lines()
        .map(str::to_lowercase)
        .collect();
    list.sort();
    list.dedup();
    list
});

/// True when the password is in the list of common passwords (case ignored).
pub fn is_common(password: &str) -> bool {
    COMMON.binary_search(&password.to_lowercase()).is_ok()
}

/// Checks a new password against the rules, naming the field `motDePasse`.
pub fn check_new(password: &str, email: &str) -> CoreResult<()> {
    let length = password.chars().count();
    let problem = if length < MIN_LENGTH {
        Some(format!("au moins {MIN_LENGTH} caractères"))
    } else if length > MAX_LENGTH {
        Some(format!("au plus {MAX_LENGTH} caractères"))
    } else if is_common(password) {
        Some("ce mot de passe figure dans la liste des mots de passe les plus courants".to_owned())
    } else if password.to_lowercase().contains(&email.to_lowercase()) {
        Some("le mot de passe ne doit pas contenir l'adresse électronique".to_owned())
    } else {
        None
    };
    match problem {
        Some(message) => Err(CoreError::Validation(vec![FieldError::new(
            "motDePasse",
            message,
        )])),
        None => Ok(()),
    }
}

/// An argon2id hash of the password (PHC string with its salt and parameters).
pub fn hash(password: &str) -> String {
    password_auth::generate_hash(password)
}

/// Checks a password against a stored hash.
pub fn verify(password: &str, hash: &str) -> bool {
    password_auth::verify_password(password, hash).is_ok()
}

/// A hash checked when the account does not exist, so that the answer takes as long as
/// for a real account (no enumeration through timing).
pub static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash("pas un vrai mot de passe, jamais"));

/// Failed attempts allowed per account in [`WINDOW_MINUTES`].
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed attempts allowed per address in [`WINDOW_MINUTES`].
pub const MAX_FAILURES_PER_ADDRESS: i64 = 30;
/// The throttling window.
pub const WINDOW_MINUTES: i64 = 15;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_matters_composition_does_not() {
        assert!(check_new("court", "a@b.fr").is_err());
        assert!(check_new("une phrase de passe toute simple", "a@b.fr").is_ok());
        assert!(check_new("ééééééééééé", "a@b.fr").is_err(), "11 characters");
    }

    #[test]
    fn common_passwords_are_refused_whatever_the_case() {
        assert!(is_common("123456789012"));
        assert!(check_new("123456789012", "a@b.fr").is_err());
        assert!(check_new("QWERTYUIOPASDFGHJKL", "a@b.fr").is_err() || !is_common("qwertyuiopasdfghjkl"));
    }

    #[test]
    fn the_email_is_not_a_password() {
        assert!(check_new("marie.dupont@ac-rennes.fr!", "marie.dupont@ac-rennes.fr").is_err());
    }
}
