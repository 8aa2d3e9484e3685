//! Writes that do not read each other's effects, sent together: to PostgreSQL as one
//! statement of data-modifying CTEs (one round trip instead of one per write), to SQLite
//! one after another (in process, where a round trip costs nothing).
//!
//! The parts of one batch run on the same snapshot and must not touch the same row; each
//! is an INSERT, UPDATE or DELETE written with its own `$1…` placeholders.

use super::{Arg, Tx};
use crate::StoreError;

struct Part {
    sql: String,
    args: Vec<Arg>,
    /// The part ends in `RETURNING <one text column> AS value`, and its values are wanted.
    returning: bool,
}

/// Independent writes of one transaction, run by [`Batch::run`].
#[derive(Default)]
pub(crate) struct Batch {
    parts: Vec<Part>,
}

impl Batch {
    /// A write whose result is not needed.
    pub(crate) fn push(&mut self, sql: impl Into<String>, args: Vec<Arg>) {
        self.parts.push(Part {
            sql: sql.into(),
            args,
            returning: false,
        });
    }

    /// A write ending in `RETURNING … AS value` (one text column) whose values `run` answers.
    pub(crate) fn push_returning(&mut self, sql: impl Into<String>, args: Vec<Arg>) {
        self.parts.push(Part {
            sql: sql.into(),
            args,
            returning: true,
        });
    }

    /// Runs every part; answers the values the returning parts gave, in part order.
    pub(crate) async fn run(self, tx: &mut Tx) -> Result<Vec<String>, StoreError> {
        match tx {
            Tx::Pg(_) if self.parts.len() > 1 => {
                let (sql, args) = self.combined();
                let rows: Vec<(String,)> = tx.fetch_all(&sql, &args).await?;
                Ok(rows.into_iter().map(|(v,)| v).collect())
            }
            _ => {
                let mut values = Vec::new();
                for part in self.parts {
                    if part.returning {
                        let rows: Vec<(String,)> = tx.fetch_all(&part.sql, &part.args).await?;
                        values.extend(rows.into_iter().map(|(v,)| v));
                    } else {
                        tx.execute(&part.sql, &part.args).await?;
                    }
                }
                Ok(values)
            }
        }
    }

    /// `WITH w0 AS (…), w1 AS (…) SELECT value FROM wN UNION ALL …`, placeholders renumbered.
    fn combined(self) -> (String, Vec<Arg>) {
        let mut sql = String::from("WITH ");
        let mut args = Vec::new();
        let mut selects = Vec::new();
        for (i, part) in self.parts.into_iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("w{i} AS ("));
            sql.push_str(&renumber(&part.sql, args.len()));
            sql.push(')');
            if part.returning {
                selects.push(format!("SELECT value FROM w{i}"));
            }
            args.extend(part.args);
        }
        if selects.is_empty() {
            sql.push_str(" SELECT NULL::text AS value WHERE false");
        } else {
            sql.push(' ');
            sql.push_str(&selects.join(" UNION ALL "));
        }
        (sql, args)
    }
}

/// Adds `offset` to every `$n` placeholder of `sql`.
fn renumber(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut digits = String::new();
        while let Some(&(_, d)) = chars.peek() {
            if !d.is_ascii_digit() {
                break;
            }
            digits.push(d);
            chars.next();
        }
        if let Ok(n) = digits.parse::<usize>() {
            out.push_str(&(n + offset).to_string());
        } else {
            out.push_str(&digits);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_renumbered_and_returning_parts_selected() {
        let mut batch = Batch::default();
        batch.push(
            "INSERT INTO a (x, y) VALUES ($1, $2::json)",
            vec![1.into(), "{}".into()],
        );
        batch.push_returning(
            "INSERT INTO b (x) VALUES ($1), ($2) ON CONFLICT DO NOTHING RETURNING x AS value",
            vec!["p".into(), "q".into()],
        );
        let (sql, args) = batch.combined();
        assert_eq!(
            sql,
            "WITH w0 AS (INSERT INTO a (x, y) VALUES ($1, $2::json)), \
             w1 AS (INSERT INTO b (x) VALUES ($3), ($4) ON CONFLICT DO NOTHING RETURNING x AS value) \
             SELECT value FROM w1"
        );
        assert_eq!(args.len(), 4);
    }

    #[test]
    fn a_batch_without_returning_parts_selects_nothing() {
        let mut batch = Batch::default();
        batch.push("DELETE FROM a WHERE x = $1", vec![1.into()]);
        batch.push("DELETE FROM b WHERE x = $1 AND y = $12", vec![1.into()]);
        let (sql, _) = batch.combined();
        assert!(sql.ends_with(
            "w1 AS (DELETE FROM b WHERE x = $2 AND y = $13) SELECT NULL::text AS value WHERE false"
        ));
    }
}
