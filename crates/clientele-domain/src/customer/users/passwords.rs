//! Password rules (NIST SP 800-63B §3.1.1.2): 8 to 128 characters, no composition rules,
//! not the user's own email, not one of the commonly used passwords of the list shipped
//! in the repository (`common-passwords.txt`: Openwall's list, public domain). Hashing is
//! not here: the domain keeps only the argon2id PHC string the API made.

use crate::{Rule, Violation};

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The most characters a password may have.
pub const MAX_PASSWORD_CHARS: usize = 128;

const COMMON: &str = include_str!("common-passwords.txt");

/// True when `password` is on the list of common passwords (case-insensitively).
pub fn is_common_password(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON
        .lines()
        .filter(|line| !line.starts_with("#!"))
        .any(|line| line.eq_ignore_ascii_case(&lower))
}

/// Checks a new password against the rules; every rule broken is reported, each with the
/// field `password`.
pub fn check_password(password: &str, email: &str) -> Result<(), Vec<Violation>> {
    let mut violations = Vec::new();
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        violations.push(Violation::new(
            "password",
            Rule::Length,
            format!(
                "a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters (12 or more recommended); this one has {chars}"
            ),
        ));
    }
    let lower = password.to_lowercase();
    let email = email.to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    if !email.is_empty() && (lower == email || lower == local) {
        violations.push(Violation::new(
            "password",
            Rule::SameAsEmail,
            "a password may not be your email address",
        ));
    } else if is_common_password(password) {
        violations.push(Violation::new(
            "password",
            Rule::CommonPassword,
            "this password is one of the most commonly used ones; choose another",
        ));
    }
    match violations.is_empty() {
        true => Ok(()),
        false => Err(violations),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(password: &str) -> Vec<Rule> {
        match check_password(password, "ann.lee@acme.example") {
            Ok(()) => vec![],
            Err(v) => v.into_iter().map(|v| v.rule).collect(),
        }
    }

    #[test]
    fn a_long_uncommon_password_is_accepted_without_composition_rules() {
        assert_eq!(rules("correct horse battery staple"), vec![]);
        assert_eq!(rules("alllowercaseletters"), vec![]);
        assert_eq!(rules(&"é".repeat(128)), vec![]);
    }

    #[test]
    fn too_short_too_long_common_and_own_email_are_refused() {
        assert_eq!(rules("short"), vec![Rule::Length]);
        assert_eq!(rules(&"x".repeat(129)), vec![Rule::Length]);
        assert_eq!(rules("password1"), vec![Rule::CommonPassword]);
        assert_eq!(rules("PassWord1"), vec![Rule::CommonPassword]);
        assert_eq!(rules("Ann.Lee@acme.example"), vec![Rule::SameAsEmail]);
        assert_eq!(rules("ann.lee"), vec![Rule::Length, Rule::SameAsEmail]);
    }
}
