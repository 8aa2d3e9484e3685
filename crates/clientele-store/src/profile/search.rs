//! The text the `text` filter searches: every text field of a customer, folded the same
//! way as the query (lower case, accents dropped), so "Zurich" finds "Zürich" and
//! "muller" finds "Müller". The folding is Rust's on both backends, so both agree.

use clientele_domain::customer::CustomerProfile;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::record::{CustomerRecord, CustomerRow, READ_COLUMNS};
use crate::db::{Arg, Db};
use crate::StoreError;

/// Folds text for searching: compatibility decomposition (NFKD), combining marks (accents)
/// dropped, lower case, and the few Latin letters that do not decompose spelled out ("ß"
/// as "ss", "ø" as "o", "æ" as "ae", …).
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        for lower in c.to_lowercase() {
            match lower {
                'ß' => folded.push_str("ss"),
                'æ' => folded.push_str("ae"),
                'œ' => folded.push_str("oe"),
                'þ' => folded.push_str("th"),
                'ø' => folded.push('o'),
                'ł' => folded.push('l'),
                'đ' | 'ð' => folded.push('d'),
                'ı' => folded.push('i'),
                c if is_combining_mark(c) => {}
                c => folded.push(c),
            }
        }
    }
    folded
}

/// The `search_text` column of a customer: its text fields folded, one a line. Personal
/// fields erased on deletion are absent from the profile, so they leave this column too.
pub(crate) fn search_text(p: &CustomerProfile) -> String {
    [
        Some(&p.name),
        p.email.as_ref(),
        p.given_name.as_ref(),
        p.family_name.as_ref(),
        p.organization.as_ref(),
        p.shortname.as_ref(),
        p.custom_id.as_ref(),
        p.seller.as_ref(),
        p.title.as_ref(),
        p.country.as_ref(),
        p.city.as_ref(),
        p.address.as_ref(),
        p.phone.as_ref(),
        p.state.as_ref(),
        p.zip.as_ref(),
        p.address2.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|s| fold(s))
    .collect::<Vec<_>>()
    .join("\n")
}

/// The `read_model_rewrites` rows migrations leave for `refresh_search_text`: 0015 (every
/// text field, folded) and 0016 (state, zip and address2 added).
const SEARCH_TEXT_REWRITES: [&str; 2] = [
    "customers.search_text.folded",
    "customers.search_text.address_fields",
];

/// Rows rewritten a transaction.
const REWRITE_BATCH: usize = 500;

/// Recomputes `search_text` of every existing row once, after a migration that changed
/// what it holds (0015: every text field, folded; 0016: the new address fields). It is derived from the row's own
/// columns, so no replay of the log is needed. A row a command changes meanwhile is left
/// to that command (the update checks the version), which writes it the new way anyway.
/// Safe to run from several instances at once: each rewrite is the same.
pub(crate) async fn refresh_search_text(db: &Db) -> Result<(), StoreError> {
    let pending = db
        .fetch_scalar(
            "SELECT count(*) FROM read_model_rewrites WHERE name IN ($1, $2)",
            &[
                SEARCH_TEXT_REWRITES[0].into(),
                SEARCH_TEXT_REWRITES[1].into(),
            ],
        )
        .await?;
    if pending.unwrap_or(0) == 0 {
        return Ok(());
    }
    let mut after: (String, String) = (String::new(), String::new());
    let mut rewritten = 0u64;
    loop {
        let sql = format!(
            "SELECT {READ_COLUMNS} FROM customers WHERE (tenant_id, id) > ($1, $2) \
             ORDER BY tenant_id, id LIMIT {REWRITE_BATCH}"
        );
        let rows: Vec<CustomerRow> = db
            .fetch_all_planned(&sql, &[after.0.as_str().into(), after.1.as_str().into()])
            .await?;
        let Some(last) = rows.len().checked_sub(1) else {
            break;
        };
        let records = rows
            .into_iter()
            .map(CustomerRecord::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx = db.begin().await?;
        for record in &records {
            tx.execute(
                "UPDATE customers SET search_text = $4 \
                 WHERE tenant_id = $1 AND id = $2 AND version = $3",
                &[
                    record.tenant.as_str().into(),
                    record.id.as_str().into(),
                    Arg::Int(record.version),
                    Arg::Text(search_text(&record.profile)),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        rewritten += records.len() as u64;
        after = (records[last].tenant.clone(), records[last].id.clone());
    }
    let mut tx = db.begin().await?;
    tx.execute(
        "DELETE FROM read_model_rewrites WHERE name IN ($1, $2)",
        &[
            SEARCH_TEXT_REWRITES[0].into(),
            SEARCH_TEXT_REWRITES[1].into(),
        ],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        rewritten,
        "customers' search text recomputed (migrations 0015, 0016)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folding_drops_accents_and_case() {
        assert_eq!(fold("Zürich"), "zurich");
        assert_eq!(fold("MÜLLER"), "muller");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Ørsted Æbleskiver"), "orsted aebleskiver");
        assert_eq!(fold("İstanbul Łódź"), "istanbul lodz");
        assert_eq!(fold("Ops@Alpha.example 100%_"), "ops@alpha.example 100%_");
    }
}
