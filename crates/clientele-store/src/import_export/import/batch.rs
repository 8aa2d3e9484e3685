//! An import's batch: its matches looked up at once, each row decided by itself, and each
//! run of new customers written in one transaction.

use clientele_domain::customer::{normalise_name, Customer, CustomerCommand, CustomerField};

use super::{Checked, Found, Importer, Outcome, Plan};
use crate::import_export::row::{ParentRef, Row};
use crate::import_export::ImportError;

impl Importer<'_> {
    /// Checks a batch without writing.
    pub(super) async fn check_batch(
        &self,
        batch: &[Row<'_>],
        required: &[CustomerField],
    ) -> Result<Vec<Checked>, ImportError> {
        let found = self.found(batch).await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for row in batch {
            outcomes.push(
                match self.row_once(row, required, false, Some(&found)).await? {
                    Ok(Plan::Done(outcome)) => Ok(outcome),
                    Ok(Plan::Write { outcome, .. }) => Ok(outcome),
                    Err(failures) => Err(failures),
                },
            );
        }
        Ok(outcomes)
    }

    /// The customers the batch's rows may match, and the parents they name, in four queries.
    async fn found(&self, batch: &[Row<'_>]) -> Result<Found, ImportError> {
        let (mut custom_ids, mut names, mut shortnames) = (Vec::new(), Vec::new(), Vec::new());
        let parents: Vec<String> = batch
            .iter()
            .filter_map(|row| match row.parent() {
                Ok(Some(ParentRef::Name(name))) => Some(name),
                _ => None,
            })
            .collect();
        for draft in batch.iter().filter_map(|row| row.draft().ok()) {
            if let Some(custom_id) = &draft.custom_id {
                custom_ids.push(custom_id.trim().to_string());
            }
            names.push(normalise_name(&draft.name));
            if let Some(shortname) = &draft.shortname {
                shortnames.push(shortname.trim().to_lowercase());
            }
        }
        let tenant = &self.metadata.tenant;
        Ok(Found {
            custom_ids: self
                .store
                .customers_by_custom_ids(tenant, &custom_ids)
                .await?,
            names: self.store.unique_owners(tenant, "name", &names).await?,
            shortnames: self
                .store
                .unique_owners(tenant, "shortname", &shortnames)
                .await?,
            parents: self.store.unique_owners(tenant, "name", &parents).await?,
        })
    }

    /// Writes a batch: its matches looked up at once, each row decided as `row` decides it,
    /// then each run of consecutive new customers created in one transaction
    /// (`Store::create_all`), the other rows one by one, in the file's order. When a run
    /// is refused as a whole (a rule, or a name an earlier row of the run already took),
    /// its rows are written one by one instead, so each gets its own outcome.
    pub(super) async fn write_batch(
        &self,
        batch: &[Row<'_>],
        required: &[CustomerField],
    ) -> Result<Vec<Checked>, ImportError> {
        let found = self.found(batch).await?;
        let mut plans = Vec::with_capacity(batch.len());
        for row in batch {
            plans.push(self.row_once(row, required, true, Some(&found)).await);
        }
        let mut outcomes: Vec<Option<Checked>> = (0..batch.len()).map(|_| None).collect();
        let mut run = Vec::new();
        for (i, plan) in plans.into_iter().enumerate() {
            match plan? {
                // New customers with no parent and no visibility column go in a run; the
                // others are written one by one, each in its own transaction.
                Ok(Plan::Write {
                    id,
                    command,
                    outcome: Outcome::Created,
                    then,
                    parent_column: None,
                }) if then.is_empty() => run.push((i, id, *command)),
                other => {
                    self.create_run(&mut run, batch, required, &mut outcomes)
                        .await?;
                    outcomes[i] = Some(match other {
                        Ok(Plan::Done(outcome)) => Ok(outcome),
                        Err(failures) => Err(failures),
                        Ok(Plan::Write { .. }) => self.row(&batch[i], required, true).await?,
                    });
                }
            }
        }
        self.create_run(&mut run, batch, required, &mut outcomes)
            .await?;
        Ok(outcomes
            .into_iter()
            .map(|o| o.expect("every row decided"))
            .collect())
    }

    /// Creates a run of new customers in one transaction, or one by one when refused.
    async fn create_run(
        &self,
        run: &mut Vec<(usize, String, CustomerCommand)>,
        batch: &[Row<'_>],
        required: &[CustomerField],
        outcomes: &mut [Option<Checked>],
    ) -> Result<(), ImportError> {
        if run.is_empty() {
            return Ok(());
        }
        let items: Vec<(String, CustomerCommand)> = run
            .iter()
            .map(|(_, id, command)| (id.clone(), command.clone()))
            .collect();
        match self
            .store
            .create_all::<Customer>(&items, &self.metadata)
            .await
        {
            Ok(_) => {
                for (i, _, _) in run.iter() {
                    outcomes[*i] = Some(Ok(Outcome::Created));
                }
            }
            Err((index, error)) => {
                tracing::debug!(index, %error, "an import run was refused; writing its rows one by one");
                for (i, _, _) in run.iter() {
                    outcomes[*i] = Some(self.row(&batch[*i], required, true).await?);
                }
            }
        }
        run.clear();
        Ok(())
    }
}
