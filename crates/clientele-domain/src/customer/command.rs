//! Commands on a customer and on its users. The forms and facts they carry live with their
//! feature.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::assignments::DashboardFacts;
use super::deletion::Confirmation;
use super::products::{CatalogueEntry, ProductToggle};
use super::profile::fields::CustomerField;
use super::profile::forms::{CustomerChanges, CustomerDraft};
use super::tree::ParentFacts;
use super::users::forms::{NewActivation, UserChanges, UserDraft};
use crate::ProductStatus;

/// What can be asked of a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CustomerCommand {
    /// Create the customer in `tenant` from `draft`, enforcing the tenant's `required` fields.
    CreateCustomer {
        tenant: String,
        draft: CustomerDraft,
        required: Vec<CustomerField>,
        /// The parent customer, for an inner customer.
        parent: Option<ParentFacts>,
        /// The name the caller asked for, when `draft.name` is another one: a suffixed name
        /// the API chose because the name asked for was taken (policy UNIQUIFY).
        requested_name: Option<String>,
        /// The product toggles of the creation form: the customer's own visibility of
        /// each, written with the creation (in the same commit).
        products: Vec<ProductToggle>,
    },
    /// Register the tenant's own company: listed, never modified or deleted.
    RegisterOwnCompany { tenant: String, name: String },
    /// Register the tenant's public customer, which holds what is made public: never
    /// modified or deleted.
    RegisterPublicCustomer { tenant: String, name: String },
    /// Change the fields `changes` names; with `expected_version`, only if nothing changed since.
    EditCustomer {
        expected_version: Option<u64>,
        changes: CustomerChanges,
        required: Vec<CustomerField>,
    },
    /// Override the tenant's global visibility of `product` for this customer.
    SetProductVisibility {
        product: String,
        visible: bool,
        catalogue: CatalogueEntry,
    },
    /// Remove the customer's own visibility of `product`: the global setting applies again.
    ResetProductVisibility {
        product: String,
        catalogue: CatalogueEntry,
    },
    /// Activate a visible product; it starts as NEW.
    ActivateProduct {
        product: String,
        catalogue: CatalogueEntry,
    },
    /// Move an activated product to another status.
    SetProductStatus {
        product: String,
        status: ProductStatus,
    },
    /// Ask for deletion: stop the products in use and open a request due after the grace period.
    RequestDeletion {
        request_id: String,
        reason: Option<String>,
        requested_by: String,
        due_at: DateTime<Utc>,
        /// Whether the customer's inner customers are deleted with it when it falls due;
        /// without, a customer with inner customers is refused (as a manual deletion is).
        delete_inner_customers: bool,
        /// The live inner customers (children), filled in by the store.
        inner_customers: Vec<String>,
    },
    /// Cancel the open request with a note; stopped products return to their statuses.
    CancelDeletionRequest { note: String, cancelled_by: String },
    /// Record that `by` starts acting as this customer's admin until `expires_at`.
    StartImpersonation {
        by: String,
        role: String,
        reason: String,
        expires_at: DateTime<Utc>,
    },
    /// Record that `by` stops acting as this customer, and end the impersonation's
    /// `session` (the `sid` of its token, whose tokens expire at `expires_at`) at `now`.
    /// A token minted before sessions existed has none.
    EndImpersonation {
        by: String,
        session: Option<String>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    /// Delete the customer now, for good.
    DeleteCustomer {
        confirmation: Confirmation,
        deleted_by: String,
        /// Live inner customers (filled in by the store); a customer that has any is refused.
        inner_customers: Vec<String>,
        /// What is assigned to it, to release (filled in by the store): device, asset,
        /// edge and dashboard ids.
        released: [Vec<String>; 4],
    },
    /// A command on one of the customer's users.
    User(UserCommand),
    /// Put this customer (`id`) under `parent`, or make it top-level with `None`.
    MoveCustomer {
        id: String,
        parent: Option<ParentFacts>,
        /// How many levels of inner customers are below this one (deleted ones too: their
        /// paths move with it), filled in by the store; a tree has at most `MAX_DEPTH`.
        height: usize,
    },
    /// Set the home dashboard (it must be assigned to the customer) and whether its toolbar
    /// is hidden.
    SetHomeDashboard {
        dashboard: Option<DashboardFacts>,
        hide_toolbar: bool,
    },
}

/// What can be asked of one of the customer's users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UserCommand {
    /// Add a user; `activation` is the first one-time activation token.
    AddUser {
        user_id: String,
        draft: UserDraft,
        activation: NewActivation,
    },
    EditUser {
        user_id: String,
        changes: UserChanges,
    },
    DisableUser {
        user_id: String,
    },
    EnableUser {
        user_id: String,
    },
    RemoveUser {
        user_id: String,
    },
    /// Issue a new activation token to a user not yet activated; the previous one is void.
    IssueActivation {
        user_id: String,
        activation: NewActivation,
    },
    /// Use a pending token (activation or reset, by its hash) at `now` to set the user's
    /// password: `password` is checked against the rules, `password_hash` (argon2id, made
    /// by the API) is what is kept. Activates a user not yet active.
    SetPassword {
        token_hash: String,
        password: String,
        password_hash: String,
        now: DateTime<Utc>,
    },
    /// Issue a one-time password-reset token (its hash) to a user; any pending token is void.
    IssuePasswordReset {
        user_id: String,
        token_hash: String,
        expires_at: DateTime<Utc>,
    },
    /// Record that sign-in to the user's account is locked until `until`.
    RecordLockout {
        user_id: String,
        until: DateTime<Utc>,
        address: Option<String>,
    },
    /// End one of the user's sign-in sessions (`signOut`, or a reused refresh token).
    EndSession {
        user_id: String,
        session: String,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    /// Use an activation token (by its hash) at `now`.
    ActivateUser {
        token_hash: String,
        now: DateTime<Utc>,
    },
}

impl From<UserCommand> for CustomerCommand {
    fn from(command: UserCommand) -> Self {
        CustomerCommand::User(command)
    }
}
