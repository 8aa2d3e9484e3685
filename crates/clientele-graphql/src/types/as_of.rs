//! `CustomerAsOf`: a customer as it was at one instant. Every field is of that instant,
//! folded from the events up to it (`Store::customer_snapshot`); fields that cannot be given
//! as of an instant (assignment pages and counts, ancestors, descendants) are not offered.

use std::sync::Arc;

use async_graphql::{Context, MergedObject, Object, ID};
use chrono::{DateTime, Utc};
use clientele_store::{CustomerRecord, CustomerSnapshot, Store};

use super::account_status::{AccountStatusExplanation, AccountStatusTransition};
use super::customer::CustomerFields;
use super::deletion::{DeletionRequest, DeletionRequestStatus};
use super::products::CustomerProduct;
use super::users::{CustomerUserConnection, UserPage};
use crate::error::ApiResult;
use crate::guard::{self, needs};

/// A customer as it was at `at`: its fields, products, account status and its history,
/// users, open deletion request, parent and inner customers, all of that one instant.
#[derive(MergedObject, Debug, Clone)]
pub struct CustomerAsOf(CustomerFields, AsOfParts);

impl From<CustomerSnapshot> for CustomerAsOf {
    fn from(snapshot: CustomerSnapshot) -> Self {
        let fields = CustomerFields::from(&record_of(&snapshot));
        CustomerAsOf(fields, AsOfParts(Arc::new(snapshot)))
    }
}

/// The snapshot's own fields in the shape `CustomerFields` reads.
fn record_of(s: &CustomerSnapshot) -> CustomerRecord {
    CustomerRecord {
        tenant: s.tenant.clone(),
        id: s.id.clone(),
        version: s.version,
        profile: s.profile.clone(),
        account_status: s.account_status(),
        own_company: s.customer.own_company,
        created_at: s.created_at,
        updated_at: s.updated_at,
        parent_id: s.customer.parent.clone(),
        ancestry: "/".into(),
        home_dashboard_id: s.customer.home_dashboard.clone(),
        hide_toolbar: s.customer.hide_toolbar,
        requested_name: s.customer.requested_name.clone(),
    }
}

/// The nested fields of a customer as of an instant.
#[derive(Debug, Clone)]
pub struct AsOfParts(Arc<CustomerSnapshot>);

impl AsOfParts {
    fn product_list(&self) -> Vec<CustomerProduct> {
        let own = &self.0.customer.products;
        self.0
            .catalogue
            .iter()
            .map(|p| {
                let row = own.get(&p.key);
                CustomerProduct::of(p, row.and_then(|r| r.visible), row.and_then(|r| r.status))
            })
            .collect()
    }
}

#[Object]
impl AsOfParts {
    /// The instant this answer is of.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// Every product of the tenant's catalogue at `at` as it stood for this customer then.
    async fn products(&self) -> Vec<CustomerProduct> {
        self.product_list()
    }

    /// The account-status transitions up to `at`, oldest first.
    async fn account_status_history(&self) -> Vec<AccountStatusTransition> {
        self.0
            .status_history
            .iter()
            .cloned()
            .map(Into::into)
            .collect()
    }

    /// Why the account had its status at `at`: the products that decided it then.
    async fn account_status_explanation(&self) -> AccountStatusExplanation {
        let statuses: Vec<(String, clientele_domain::ProductStatus)> = self
            .0
            .customer
            .products
            .iter()
            .filter_map(|(key, p)| p.status.map(|s| (key.clone(), s)))
            .collect();
        AccountStatusExplanation::of(self.0.customer.deleted, statuses)
    }

    /// The customer's users at `at`, by email (not for CUSTOMER_USER).
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100; 20 when omitted.")] first: Option<i32>,
        #[graphql(desc = "The cursor to start after (from `pageInfo.endCursor`).")] after: Option<
            String,
        >,
        #[graphql(
            desc = "Only users whose email, given name, family name or full name contains this, case-insensitively; at most 254 characters."
        )]
        text: Option<String>,
    ) -> ApiResult<CustomerUserConnection> {
        guard::require(ctx, needs!(Customer, "users"))?;
        Ok(UserPage::new(first, after, text)?.of_all(&self.0.users))
    }

    /// The deletion request that was open at `at`, if any.
    async fn open_deletion_request(&self) -> Option<DeletionRequest> {
        self.0.open_request.as_ref().map(|r| DeletionRequest {
            id: r.request_id.clone(),
            customer_id: ID(self.0.id.clone()),
            requested_by: r.requested_by.clone(),
            requested_at: r.requested_at,
            reason: r.reason.clone(),
            due_at: r.due_at,
            status: DeletionRequestStatus::Open,
            closed_by: None,
            closed_at: None,
            note: None,
            automatic: false,
            delete_inner_customers: r.delete_inner_customers,
        })
    }

    /// The parent at `at`, as it was then, if it is one the caller may see.
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<CustomerAsOf>> {
        let Some(id) = &self.0.customer.parent else {
            return Ok(None);
        };
        if guard::visible_customer(ctx, id).await?.is_none() {
            return Ok(None);
        }
        let store = ctx.data_unchecked::<Store>();
        let parent = store
            .customer_snapshot(&self.0.tenant, id, self.0.at)
            .await?;
        Ok(parent.map(Into::into))
    }

    /// The live inner customers one level down at `at`, as they were then, by name.
    async fn children(&self, ctx: &Context<'_>) -> ApiResult<Vec<CustomerAsOf>> {
        let store = ctx.data_unchecked::<Store>();
        let children = store
            .children_as_of(&self.0.tenant, &self.0.id, self.0.at)
            .await?;
        let mut out = Vec::new();
        for child in children {
            if guard::visible_customer(ctx, &child.id).await?.is_some() {
                out.push(child.into());
            }
        }
        Ok(out)
    }
}
