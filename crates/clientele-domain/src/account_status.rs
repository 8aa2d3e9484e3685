//! The account status: derived from the customer's product statuses (and its deletion),
//! never set by anyone.

use serde::{Deserialize, Serialize};

/// The status of one product of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatus {
    New,
    Trial,
    Active,
    Paused,
    TrialEnd,
    Deleted,
}

/// Where an account stands; `derive_account_status` is the one rule that decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    Preparation,
    Trial,
    Active,
    TrialEnd,
    Deleted,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Preparation => "PREPARATION",
            AccountStatus::Trial => "TRIAL",
            AccountStatus::Active => "ACTIVE",
            AccountStatus::TrialEnd => "TRIAL_END",
            AccountStatus::Deleted => "DELETED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "PREPARATION" => AccountStatus::Preparation,
            "TRIAL" => AccountStatus::Trial,
            "ACTIVE" => AccountStatus::Active,
            "TRIAL_END" => AccountStatus::TrialEnd,
            "DELETED" => AccountStatus::Deleted,
            _ => return None,
        })
    }
}

/// The one rule for the account status; every caller uses this function.
///
/// - Deleted: the account is deleted.
/// - Active: at least one product is ACTIVE.
/// - Trial: at least one product in TRIAL, none ACTIVE.
/// - Trial End: at least one product DELETED, TRIAL_END or PAUSED, none ACTIVE or TRIAL.
/// - Preparation: otherwise (no product used yet).
pub fn derive_account_status(
    deleted: bool,
    products: impl IntoIterator<Item = ProductStatus>,
) -> AccountStatus {
    if deleted {
        return AccountStatus::Deleted;
    }
    let (mut active, mut trial, mut ended) = (false, false, false);
    for status in products {
        match status {
            ProductStatus::Active => active = true,
            ProductStatus::Trial => trial = true,
            ProductStatus::Paused | ProductStatus::TrialEnd | ProductStatus::Deleted => {
                ended = true
            }
            ProductStatus::New => {}
        }
    }
    if active {
        AccountStatus::Active
    } else if trial {
        AccountStatus::Trial
    } else if ended {
        AccountStatus::TrialEnd
    } else {
        AccountStatus::Preparation
    }
}

/// Why the account has its status, in a sentence naming the products that decide it.
pub fn explain_account_status(
    deleted: bool,
    products: &[(String, ProductStatus)],
) -> (AccountStatus, String) {
    let status = derive_account_status(deleted, products.iter().map(|(_, s)| *s));
    let named = |wanted: &[ProductStatus]| {
        products
            .iter()
            .filter(|(_, s)| wanted.contains(s))
            .map(|(key, s)| format!("{key} ({})", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let reason = match status {
        AccountStatus::Deleted => "the account is deleted".to_string(),
        AccountStatus::Active => format!(
            "at least one product is ACTIVE: {}",
            named(&[ProductStatus::Active])
        ),
        AccountStatus::Trial => format!(
            "no product is ACTIVE and at least one is in TRIAL: {}",
            named(&[ProductStatus::Trial])
        ),
        AccountStatus::TrialEnd => format!(
            "no product is ACTIVE or in TRIAL, and these ended: {}",
            named(&[
                ProductStatus::Paused,
                ProductStatus::TrialEnd,
                ProductStatus::Deleted
            ])
        ),
        AccountStatus::Preparation => "no product has been used yet".to_string(),
    };
    (status, reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProductStatus::*;

    #[test]
    fn a_new_account_is_in_preparation() {
        assert_eq!(derive_account_status(false, []), AccountStatus::Preparation);
        assert_eq!(
            derive_account_status(false, [New]),
            AccountStatus::Preparation
        );
    }

    #[test]
    fn one_active_product_makes_the_account_active() {
        assert_eq!(
            derive_account_status(false, [Trial, Active, Paused]),
            AccountStatus::Active
        );
    }

    #[test]
    fn trial_without_active_is_trial() {
        assert_eq!(
            derive_account_status(false, [Trial, Paused]),
            AccountStatus::Trial
        );
    }

    #[test]
    fn ended_products_without_active_or_trial_end_the_trial() {
        for ended in [Paused, TrialEnd, Deleted] {
            assert_eq!(
                derive_account_status(false, [New, ended]),
                AccountStatus::TrialEnd
            );
        }
    }

    #[test]
    fn the_explanation_names_the_deciding_products() {
        let products = [("CDN".to_string(), Paused), ("DNS".to_string(), New)];
        let (status, reason) = explain_account_status(false, &products);
        assert_eq!(status, AccountStatus::TrialEnd);
        assert_eq!(
            reason,
            "no product is ACTIVE or in TRIAL, and these ended: CDN (PAUSED)"
        );
    }

    #[test]
    fn a_deleted_account_is_deleted_whatever_its_products() {
        assert_eq!(
            derive_account_status(true, [Active]),
            AccountStatus::Deleted
        );
    }
}
