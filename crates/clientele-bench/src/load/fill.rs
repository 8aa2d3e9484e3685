//! The log `clientele rebuild` replays: synthetic customer events written straight into it.

use sqlx::Connection;

/// Appends `events` synthetic customer events (a creation and nine edits per customer,
/// copied from real ones the server wrote) straight into the log. Returns the log's size.
pub async fn fill_log(url: &str, events: usize, template: &str) -> anyhow::Result<u64> {
    let customers = events / 10;
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let (created, meta): (String, String) = sqlx::query_as(
            "SELECT payload::text, metadata::text FROM events WHERE aggregate_id = $1 AND sequence = 1",
        )
        .bind(template)
        .fetch_one(&mut conn)
        .await?;
        let edited: String = sqlx::query_scalar(
            "SELECT payload::text FROM events WHERE event_type = 'CustomerEdited' LIMIT 1",
        )
        .fetch_one(&mut conn)
        .await?;
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, tenant_id, occurred_at) \
             SELECT 'Customer', 'synthetic-' || c, s, \
                    CASE WHEN s = 1 THEN 'CustomerCreated' ELSE 'CustomerEdited' END, '1.0', \
                    CASE WHEN s = 1 THEN replace($1, '\"customer 0\"', '\"synthetic ' || c || '\"')::json ELSE $2::json END, \
                    $3::json, 'default', 0 \
             FROM generate_series(1, $4) c, generate_series(1, 10) s ORDER BY c, s",
        )
        .bind(&created)
        .bind(&edited)
        .bind(&meta)
        .bind(customers as i64)
        .execute(&mut conn)
        .await?;
        let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&mut conn)
            .await?;
        return Ok(total as u64);
    }
    let mut conn = sqlx::SqliteConnection::connect(url).await?;
    let (created, meta): (String, String) = sqlx::query_as(
        "SELECT payload, metadata FROM events WHERE aggregate_id = $1 AND sequence = 1",
    )
    .bind(template)
    .fetch_one(&mut conn)
    .await?;
    let edited: String = sqlx::query_scalar(
        "SELECT payload FROM events WHERE event_type = 'CustomerEdited' LIMIT 1",
    )
    .fetch_one(&mut conn)
    .await?;
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, tenant_id, occurred_at, position) \
         WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < $4), \
                        s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < 10) \
         SELECT 'Customer', 'synthetic-' || n, k, \
                CASE WHEN k = 1 THEN 'CustomerCreated' ELSE 'CustomerEdited' END, '1.0', \
                CASE WHEN k = 1 THEN replace($1, '\"customer 0\"', '\"synthetic ' || n || '\"') ELSE $2 END, \
                $3, 'default', 0, (SELECT coalesce(max(position), 0) FROM events) + (n - 1) * 10 + k \
         FROM c, s ORDER BY n, k",
    )
    .bind(&created)
    .bind(&edited)
    .bind(&meta)
    .bind(customers as i64)
    .execute(&mut conn)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut conn)
        .await?;
    Ok(total as u64)
}
