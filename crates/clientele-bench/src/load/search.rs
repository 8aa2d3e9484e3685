//! `clientele-bench search --customers 1000000`: finding customers (issue 19) over a large
//! tenant.
//!
//! On a fresh database the real server creates one customer with every text field set;
//! the log is then filled with N `CustomerCreated` events shaped like its one, each with its
//! own name, email, names, organization, customId, seller, title, country, city, address
//! and phone (some with accents), the personal ones sealed as the store seals them (with
//! the template customer's key, which every copy gets in `subject_keys`). `clientele
//! rebuild` then builds every read model from that log, so the rows and their
//! `search_text` are the projection's own. The tables are then analyzed, as autovacuum
//! would.
//!
//! It then sends the customer list's `customers(filter: {text}, first: 50)` (with
//! `totalCount`, as a list screen shows it) for several kinds of text, one request at a
//! time, the kinds interleaved so that they share the machine's noise, and next to each the
//! same search as a plain SQL query through sqlx on the same database (the 50 newest
//! matching rows and their count): the machine's own limit for it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::ensure;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use sqlx::Connection;

use super::drive::{bench_url, histogram};
use super::http::{self, Template, HOLE};
use super::server::{self, Server};
use super::Scratch;

#[derive(clap::Args)]
pub struct SearchArgs {
    /// Customers in the tenant.
    #[arg(long, default_value_t = 1_000_000)]
    customers: usize,
    /// Measured requests of each kind of search.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// A PostgreSQL server (the path names the admin database) to create a fresh database on.
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// `postgres` or `sqlite`.
    #[arg(long, default_value = "postgres")]
    backend: String,
    /// The server binary (build it first: `cargo build --release`).
    #[arg(long, default_value = "target/release/clientele")]
    server_bin: PathBuf,
}

/// The list screen's search request.
const SEARCH: &str = "query($text: String!) { customers(first: 50, filter: { text: $text, ownCompany: false }) { totalCount edges { node { id name email city seller accountStatus } } pageInfo { hasNextPage endCursor } } }";

/// The placeholders of the template customer, replaced in every copy.
const TEMPLATE: [(&str, &str); 12] = [
    ("name", "qqname"),
    ("email", "qqmail@qqdomain.example"),
    ("givenName", "Qqgiven"),
    ("familyName", "Qqfamily"),
    ("organization", "Qqorg"),
    ("customId", "QQCID"),
    ("seller", "Qqseller"),
    ("title", "Qqtitle"),
    ("country", "Qqcountry"),
    ("city", "Qqcity"),
    ("address", "Qqaddress"),
    ("phone", "+1 555 0100"),
];

const CITIES: [&str; 50] = [
    "Zürich",
    "Genève",
    "Basel",
    "Bern",
    "Lausanne",
    "Luzern",
    "München",
    "Köln",
    "Düsseldorf",
    "Berlin",
    "Hamburg",
    "Wien",
    "Graz",
    "Linz",
    "Paris",
    "Lyon",
    "Marseille",
    "Orléans",
    "Besançon",
    "Nîmes",
    "Madrid",
    "Málaga",
    "Córdoba",
    "León",
    "Cádiz",
    "Lisboa",
    "Porto",
    "Évora",
    "Milano",
    "Torino",
    "Napoli",
    "Forlì",
    "Kraków",
    "Łódź",
    "Gdańsk",
    "Poznań",
    "Praha",
    "Brno",
    "Plzeň",
    "Malmö",
    "Göteborg",
    "Århus",
    "København",
    "Reykjavík",
    "Tromsø",
    "Oslo",
    "Helsinki",
    "Tampere",
    "Dublin",
    "Cork",
];
const GIVEN: [&str; 20] = [
    "Jürgen",
    "Anna",
    "Zoë",
    "José",
    "Renée",
    "Søren",
    "Łukasz",
    "François",
    "Chloé",
    "Björn",
    "Mia",
    "Noah",
    "Liam",
    "Emma",
    "Olivia",
    "Lucas",
    "Léa",
    "Hugo",
    "Inès",
    "Maël",
];
const FAMILY: [&str; 30] = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Dubois",
    "Lefèvre",
    "García",
    "Martínez",
    "López",
    "Nowak",
    "Kowalski",
    "Novák",
    "Jensen",
    "Nielsen",
    "Hansen",
    "Johansson",
    "Bianchi",
    "Rossi",
    "Ferrari",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Smith",
    "Jones",
];
const SELLERS: [&str; 10] = [
    "Alice", "Bob", "Chloé", "Dmitri", "Eve", "Farah", "Gunnar", "Hélène", "Ivan", "Júlia",
];
const COUNTRIES: [&str; 15] = [
    "Schweiz",
    "Deutschland",
    "Österreich",
    "France",
    "España",
    "Portugal",
    "Italia",
    "Polska",
    "Česko",
    "Sverige",
    "Danmark",
    "Ísland",
    "Norge",
    "Suomi",
    "Éire",
];

/// What a kind of text is, and the text for sample i.
type Kind = (&'static str, Box<dyn Fn(usize) -> String>);

/// The kinds of text searched.
fn kinds(customers: usize) -> Vec<Kind> {
    let pick = move |i: usize| (i * 7919) % customers + 1;
    vec![
        (
            "a name as people write it (\"Customer 123457\")",
            Box::new(move |i| format!("Customer {}", pick(i))),
        ),
        (
            "an email address",
            Box::new(move |i| format!("ops{}@", pick(i))),
        ),
        ("a customId", Box::new(move |i| format!("C-{:07}", pick(i)))),
        (
            "a city without its accent (\"zurich\", 1 in 50)",
            Box::new(|i| ["zurich", "geneve", "malaga", "lodz", "tromso"][i % 5].to_string()),
        ),
        (
            "a family name (\"muller\", 1 in 30)",
            Box::new(|i| ["muller", "garcia", "lefevre", "nowak", "jensen"][i % 5].to_string()),
        ),
        (
            "text nothing has",
            Box::new(|i| format!("no such text {i}")),
        ),
    ]
}

pub async fn run(args: SearchArgs) -> anyhow::Result<()> {
    ensure!(
        args.server_bin.exists(),
        "{} is missing: run `cargo build --release` first",
        args.server_bin.display()
    );
    ensure!(
        args.backend == "postgres" || args.backend == "sqlite",
        "unknown backend {} (postgres or sqlite)",
        args.backend
    );
    let scratch = Scratch::create(&args.database_url, &args.backend).await?;
    let result = measure(&args, &scratch).await;
    scratch.drop().await?;
    let table = result?;
    println!("{table}");
    Ok(())
}

async fn measure(args: &SearchArgs, scratch: &Scratch) -> anyhow::Result<String> {
    let (url, dir) = (&scratch.url, &scratch.dir);
    let token = server::token();
    let server = Server::start(&args.server_bin, url, &dir.join("a"), &token).await?;
    let mut conn = http::Conn::open(&server.target).await?;
    let mut input = serde_json::Map::new();
    for (field, value) in TEMPLATE {
        input.insert(field.into(), json!(value));
    }
    let create = Template::graphql(
        "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }",
        json!({ "input": input }),
    );
    let body = http::call(&mut conn, &create, &[]).await?;
    let template = http::string_field(&body, "id")
        .ok_or_else(|| anyhow::anyhow!("no id in {}", String::from_utf8_lossy(&body)))?
        .to_string();
    drop(conn);
    server.stop();

    eprintln!("filling the log with {} customers", args.customers);
    let started = Instant::now();
    fill(&bench_url(url), args.customers, &template).await?;
    eprintln!(
        "filled in {:.0} s; rebuilding",
        started.elapsed().as_secs_f64()
    );
    let rebuilt = server::rebuild_once(&args.server_bin, url, dir, &[])?;
    eprintln!(
        "rebuilt {} events at {:.0} events/s",
        rebuilt.events, rebuilt.rate
    );
    let plain = PlainSearch::connect(&bench_url(url)).await?;
    plain.analyze().await?;

    let server = Server::start(&args.server_bin, url, &dir.join("a"), &token).await?;
    let mut conn = http::Conn::open(&server.target).await?;
    let search = Template::graphql(SEARCH, json!({ "text": HOLE }));
    let kinds = kinds(args.customers);
    let mut graphql: Vec<Histogram<u64>> = kinds.iter().map(|_| histogram()).collect();
    let mut sql: Vec<Histogram<u64>> = kinds.iter().map(|_| histogram()).collect();
    let mut matches = vec![0u64; kinds.len()];
    let warm_up = 10;
    for i in 0..warm_up + args.samples {
        for (k, (_, text)) in kinds.iter().enumerate() {
            let text = text(i);
            let started = Instant::now();
            let body = http::call(&mut conn, &search, &[&text]).await?;
            let took = started.elapsed();
            let count = total_count(&body)?;
            let started = Instant::now();
            let plain_count = plain.search(&text).await?;
            let plain_took = started.elapsed();
            ensure!(
                count == plain_count,
                "GraphQL counted {count} customers for {text:?}, SQL {plain_count}"
            );
            if i >= warm_up {
                graphql[k].record(micros(took))?;
                sql[k].record(micros(plain_took))?;
                matches[k] += count;
            }
        }
    }
    drop(conn);
    server.stop();
    plain.close().await;

    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let mut table = format!(
        "Search over {} customers on {} ({} requests of each kind, one at a time; `customers(first: 50, filter: {{text}})` with `totalCount`):\n\n",
        args.customers,
        if args.backend == "postgres" { "PostgreSQL" } else { "SQLite" },
        args.samples
    );
    table.push_str("| text | matches (mean) | GraphQL p50 | GraphQL p99 | plain SQL p50 (50 newest + count) | plain / GraphQL at p50 |\n");
    table.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for (k, (what, _)) in kinds.iter().enumerate() {
        table.push_str(&format!(
            "| {what} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {:.0}% |\n",
            matches[k] as f64 / args.samples as f64,
            ms(&graphql[k], 0.5),
            ms(&graphql[k], 0.99),
            ms(&sql[k], 0.5),
            100.0 * ms(&sql[k], 0.5) / ms(&graphql[k], 0.5),
        ));
    }
    table.push_str(&format!(
        "\nFilled through `clientele rebuild` of every projection ({} events at {:.0} events/s).\n",
        rebuilt.events, rebuilt.rate
    ));
    Ok(table)
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}

fn total_count(body: &[u8]) -> anyhow::Result<u64> {
    let needle = b"\"totalCount\":";
    let at = memchr::memmem::find(body, needle)
        .ok_or_else(|| anyhow::anyhow!("no totalCount in {}", String::from_utf8_lossy(body)))?
        + needle.len();
    let digits: String = body[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|b| *b as char)
        .collect();
    Ok(digits.parse()?)
}

/// The text fields of synthetic customer `c`, by input name.
fn fields(c: usize) -> [(&'static str, String); 12] {
    [
        ("name", format!("customer-{c}")),
        ("email", format!("ops{c}@org{}.example", c % 50_000)),
        ("givenName", GIVEN[c % GIVEN.len()].to_string()),
        ("familyName", FAMILY[c % FAMILY.len()].to_string()),
        ("organization", format!("Org {}", c % 50_000)),
        ("customId", format!("C-{c:07}")),
        ("seller", SELLERS[c % SELLERS.len()].to_string()),
        ("title", format!("Account {}", c % 7)),
        ("country", COUNTRIES[c % COUNTRIES.len()].to_string()),
        ("city", CITIES[c % CITIES.len()].to_string()),
        ("address", format!("Hauptstrasse {}", c % 997)),
        ("phone", format!("+41 44 {c:07}")),
    ]
}

/// Seals `plain` as the store does: base64 of the nonce and the ChaCha20-Poly1305 box. The
/// nonce is the counter `n`, unique for the key.
fn seal(cipher: &ChaCha20Poly1305, n: u64, plain: &str) -> Value {
    let mut nonce = [0u8; 12];
    nonce[..8].copy_from_slice(&n.to_le_bytes());
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
        .expect("encryption does not fail");
    let mut bytes = nonce.to_vec();
    bytes.extend(sealed);
    json!({ "$sealed": STANDARD.encode(bytes) })
}

/// Appends `customers` `CustomerCreated` events shaped like the template's to the log, and
/// gives each of those customers the template's key.
async fn fill(url: &str, customers: usize, template: &str) -> anyhow::Result<()> {
    ensure!(
        url.starts_with("postgres"),
        "the search benchmark fills PostgreSQL only so far"
    );
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let (created, meta): (String, String) = sqlx::query_as(
        "SELECT payload::text, metadata::text FROM events WHERE aggregate_id = $1 AND sequence = 1",
    )
    .bind(template)
    .fetch_one(&mut conn)
    .await?;
    let key: String = sqlx::query_scalar("SELECT key FROM subject_keys WHERE aggregate_id = $1")
        .bind(template)
        .fetch_one(&mut conn)
        .await?;
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&STANDARD.decode(&key)?));
    let created: Value = serde_json::from_str(&created)?;
    let profile = &created["CustomerCreated"]["profile"];
    let sealed: Vec<&str> = fields(0)
        .iter()
        .map(|(field, _)| *field)
        .filter(|field| profile[*field].get("$sealed").is_some())
        .collect();
    ensure!(
        !sealed.is_empty(),
        "the template has no sealed field: {profile}"
    );
    let mut nonce = 1u64 << 40;
    let batch = 10_000;
    for from in (1..=customers).step_by(batch) {
        let to = (from + batch - 1).min(customers);
        let (mut ids, mut payloads) = (Vec::new(), Vec::new());
        for c in from..=to {
            let mut payload = created.clone();
            let profile = &mut payload["CustomerCreated"]["profile"];
            for (field, value) in fields(c) {
                profile[field] = if sealed.contains(&field) {
                    nonce += 1;
                    seal(&cipher, nonce, &value)
                } else {
                    json!(value)
                };
            }
            ids.push(
                uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("search-{c}").as_bytes())
                    .to_string(),
            );
            payloads.push(payload.to_string());
        }
        let mut tx = sqlx::Connection::begin(&mut conn).await?;
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, tenant_id, occurred_at) \
             SELECT 'Customer', id, 1, 'CustomerCreated', '1.0', payload::json, $3::json, 'default', 0 \
             FROM unnest($1::text[], $2::text[]) AS t(id, payload)",
        )
        .bind(&ids)
        .bind(&payloads)
        .bind(&meta)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO subject_keys (aggregate_id, key) SELECT unnest($1::text[]), $2")
            .bind(&ids)
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// The same search as plain SQL on the same database.
struct PlainSearch {
    pool: sqlx::PgPool,
}

impl PlainSearch {
    async fn connect(url: &str) -> anyhow::Result<PlainSearch> {
        Ok(PlainSearch {
            pool: sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await?,
        })
    }

    async fn analyze(&self) -> anyhow::Result<()> {
        sqlx::query("VACUUM ANALYZE").execute(&self.pool).await?;
        Ok(())
    }

    /// The 50 newest matching rows and the number of matches, as two statements, with the
    /// list's own conditions: the text as typed or as a name is normalised, no deleted
    /// customer, no test account, not the tenant's own company.
    async fn search(&self, text: &str) -> anyhow::Result<u64> {
        let typed = format!("%{}%", clientele_store::fold(text));
        let named = format!(
            "%{}%",
            clientele_store::fold(&clientele_domain::customer::normalise_name(text))
        );
        let matching = "FROM customers WHERE tenant_id = 'default' AND NOT own_company \
             AND account_status <> 'DELETED' AND NOT test_account \
             AND (search_text LIKE $1 OR search_text LIKE $2)";
        let _rows: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT id, name {matching} ORDER BY created_at DESC, id DESC LIMIT 50"
        ))
        .bind(&typed)
        .bind(&named)
        .fetch_all(&self.pool)
        .await?;
        let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) {matching}"))
            .bind(&typed)
            .bind(&named)
            .fetch_one(&self.pool)
            .await?;
        Ok(count as u64)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
