//! CSV import and export of customers: every input field a column, each row imported as
//! its own createCustomer command.

use async_graphql::{Context, Object};
use clientele_domain::Rule;

use super::shared::parts;
use crate::auth::Role;
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs};
use crate::types::import_export::{ImportMode, ImportResult, OnExisting};
use clientele_store::import_export::{ImportError, Importer};

#[derive(Default)]
pub struct ImportExportQuery;

#[Object]
impl ImportExportQuery {
    /// The tenant's customers as CSV (every input field as a column; not deleted customers,
    /// not the tenant's own company), with `parent` (the parent's name; every parent comes
    /// before its children) and one `visible:KEY` column per catalogue product (the
    /// customer's own visibility: true, false, or empty to follow the tenant's setting).
    /// Importing it back, into this tenant or an empty one, gives the same customers, tree
    /// and visibility.
    async fn export_customers(&self, ctx: &Context<'_>) -> ApiResult<String> {
        let me = guard::require(ctx, needs!(Query, "exportCustomers"))?;
        let (_, store, _) = parts(ctx);
        let mut out = Vec::new();
        clientele_store::import_export::export_csv(store, &me.tenant, &mut out)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        String::from_utf8(out).map_err(|e| ApiError::Internal(e.to_string()))
    }
}

#[derive(Default)]
pub struct ImportExportMutation;

#[Object]
impl ImportExportMutation {
    /// Imports customers from a CSV file (the portal's CSV upload format and beyond: a
    /// header row with `Name` and any other input field, `,` or `;`, UTF-8 with or without
    /// a BOM). Every row obeys createCustomer's rules; a row matching an existing customer
    /// (by customId, else by name) is skipped or updated, so importing a file twice creates
    /// no duplicates. A row's parent is `Parent` (a name: a customer, or a row anywhere in
    /// the file) or `Parent ID` (a customer's id); `visible:KEY` (or `Product KEY Visible`)
    /// sets the new customer's own visibility of a catalogue product in the same
    /// transaction. A parent that no row creates fails the row (UNKNOWN_CUSTOMER), as does
    /// a row that is its own ancestor (CYCLE); a column naming a product the catalogue
    /// lacks refuses the file.
    async fn import_customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The CSV file (a multipart upload).")] file: async_graphql::Upload,
        #[graphql(
            default_with = "ImportMode::Partial",
            desc = "PARTIAL (the default), ALL_OR_NOTHING or DRY_RUN."
        )]
        mode: ImportMode,
        #[graphql(
            default_with = "OnExisting::Skip",
            desc = "What to do with a row matching an existing customer: SKIP (the default) or UPDATE."
        )]
        on_existing: OnExisting,
    ) -> ApiResult<ImportResult> {
        let me = guard::require(ctx, needs!(Mutation, "importCustomers"))?;
        let (_, store, clock) = parts(ctx);
        let upload = file
            .value(ctx)
            .map_err(|e| ApiError::argument("file", Rule::Format, e.to_string()))?;
        let content = upload.content;
        let importer = Importer {
            store,
            metadata: me.metadata(clock.now()),
            mode: mode.into(),
            on_existing: on_existing.into(),
            seller: (me.role == Role::Seller).then(|| me.subject.clone()),
        };
        // The upload is held in memory (within the upload size limit); rows are streamed.
        let open = || Ok(std::io::Cursor::new(content.clone()));
        match importer.run(open, |_| {}).await {
            Ok(report) => Ok(report.into()),
            Err(ImportError::Store(error)) => Err(error.into()),
            Err(error) => Err(ApiError::argument("file", Rule::Format, error.to_string())),
        }
    }
}
