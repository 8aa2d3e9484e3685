//! An import's batch: decided row by row, written a run of new customers per transaction.

use clientele_domain::customer::{Customer, CustomerCommand, CustomerField};

use super::{Checked, Importer, Outcome, Plan, IN_FLIGHT};
use crate::import_export::row::Row;
use crate::import_export::ImportError;

impl Importer<'_> {
    /// Checks a batch without writing, a few rows in flight at once.
    pub(super) async fn check_batch(
        &self,
        batch: &[Row<'_>],
        required: &[CustomerField],
    ) -> Result<Vec<Checked>, ImportError> {
        let mut outcomes = Vec::with_capacity(batch.len());
        for chunk in batch.chunks(IN_FLIGHT) {
            let pending = chunk.iter().map(|row| self.row(row, required, false));
            for outcome in futures::future::join_all(pending).await {
                outcomes.push(outcome?);
            }
        }
        Ok(outcomes)
    }

    /// Writes a batch: each row decided as `row` decides it (a few in flight at once),
    /// then each run of consecutive new customers created in one transaction
    /// (`Store::create_all`), the other rows one by one, in the file's order. When a run
    /// is refused as a whole (a rule, or a name an earlier row of the run already took),
    /// its rows are written one by one instead, so each gets its own outcome.
    pub(super) async fn write_batch(
        &self,
        batch: &[Row<'_>],
        required: &[CustomerField],
    ) -> Result<Vec<Checked>, ImportError> {
        let mut plans = Vec::with_capacity(batch.len());
        for chunk in batch.chunks(IN_FLIGHT) {
            let pending = chunk.iter().map(|row| self.row_once(row, required, true));
            plans.extend(futures::future::join_all(pending).await);
        }
        let mut outcomes: Vec<Option<Checked>> = (0..batch.len()).map(|_| None).collect();
        let mut run = Vec::new();
        for (i, plan) in plans.into_iter().enumerate() {
            match plan? {
                Ok(Plan::Write {
                    id,
                    command,
                    outcome: Outcome::Created,
                }) => run.push((i, id, command)),
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
