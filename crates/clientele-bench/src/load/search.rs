//! `clientele-bench search --customers 1000000`: finding customers (issue 19) over a large
//! tenant.
//!
//! On a fresh database the real server creates one customer with every text field set;
//! the log is then filled with N `CustomerCreated` events copied from it, each with its own
//! name, email, names, organization, customId, seller, title, country, city, address and
//! phone (some with accents), and `clientele rebuild` builds every read model from that
//! log, so the rows and their `search_text` are the projection's own. On PostgreSQL the
//! tables are then analyzed, as autovacuum would.
//!
//! It then sends the customer list's `customers(filter: {text}, first: 50)` (with
//! `totalCount`, as a list screen shows it) for several kinds of text, one request at a
//! time, the kinds interleaved so that they share the machine's noise, and next to each the
//! same search as a plain SQL query through sqlx on the same database (the 50 newest
//! matching rows and their count): the machine's own limit for it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::ensure;
use hdrhistogram::Histogram;
use serde_json::json;
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

const CITIES: &str = "{Zürich,Genève,Basel,Bern,Lausanne,Luzern,München,Köln,Düsseldorf,Berlin,Hamburg,Wien,Graz,Linz,Paris,Lyon,Marseille,Orléans,Besançon,Nîmes,Madrid,Málaga,Córdoba,León,Cádiz,Lisboa,Porto,Évora,Milano,Torino,Napoli,Forlì,Kraków,Łódź,Gdańsk,Poznań,Praha,Brno,Plzeň,Malmö,Göteborg,Århus,København,Reykjavík,Tromsø,Oslo,Helsinki,Tampere,Dublin,Cork}";
const GIVEN: &str = "{Jürgen,Anna,Zoë,José,Renée,Søren,Łukasz,François,Chloé,Björn,Mia,Noah,Liam,Emma,Olivia,Lucas,Léa,Hugo,Inès,Maël}";
const FAMILY: &str = "{Müller,Schmidt,Schneider,Fischer,Weber,Meyer,Wagner,Becker,Schulz,Hoffmann,Dubois,Lefèvre,García,Martínez,López,Nowak,Kowalski,Novák,Jensen,Nielsen,Hansen,Johansson,Bianchi,Rossi,Ferrari,O'Brien,Murphy,Kelly,Smith,Jones}";
const SELLERS: &str = "{Alice,Bob,Chloé,Dmitri,Eve,Farah,Gunnar,Hélène,Ivan,Júlia}";
const COUNTRIES: &str = "{Schweiz,Deutschland,Österreich,France,España,Portugal,Italia,Polska,Česko,Sverige,Danmark,Ísland,Norge,Suomi,Éire}";

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

/// The SQL expressions (`c` is the customer's number) that replace each placeholder.
fn replacements() -> Vec<(&'static str, String)> {
    let of = |list: &str, modulo: &str| format!("('{list}'::text[])[1 + {modulo}]");
    vec![
        ("qqname", "'customer-' || c".into()),
        (
            "qqmail@qqdomain.example",
            "'ops' || c || '@org' || (c % 50000) || '.example'".into(),
        ),
        ("Qqgiven", of(GIVEN, "c % 20")),
        ("Qqfamily", of(FAMILY, "c % 30")),
        ("Qqorg", "'Org ' || (c % 50000)".into()),
        ("QQCID", "'C-' || lpad(c::text, 7, '0')".into()),
        ("Qqseller", of(SELLERS, "c % 10")),
        ("Qqtitle", "'Account ' || (c % 7)".into()),
        ("Qqcountry", of(COUNTRIES, "c % 15")),
        ("Qqcity", of(CITIES, "c % 50")),
        ("Qqaddress", "'Hauptstrasse ' || (c % 997)".into()),
        ("+1 555 0100", "'+41 44 ' || lpad(c::text, 7, '0')".into()),
    ]
}

/// Appends `customers` copies of the template's `CustomerCreated` to the log.
async fn fill(url: &str, customers: usize, template: &str) -> anyhow::Result<()> {
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let (created, meta): (String, String) = sqlx::query_as(
            "SELECT payload::text, metadata::text FROM events WHERE aggregate_id = $1 AND sequence = 1",
        )
        .bind(template)
        .fetch_one(&mut conn)
        .await?;
        let mut payload = "$1".to_string();
        for (placeholder, value) in replacements() {
            ensure!(
                created.contains(placeholder),
                "{placeholder} not in {created}"
            );
            payload = format!("replace({payload}, '{placeholder}', {value})");
        }
        // Batches of 100,000, so that one statement's memory stays small.
        let batch = 100_000;
        for from in (1..=customers).step_by(batch) {
            let to = (from + batch - 1).min(customers);
            sqlx::query(&format!(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, tenant_id, occurred_at) \
                 SELECT 'Customer', md5('search-' || c)::uuid::text, 1, 'CustomerCreated', '1.0', ({payload})::json, $2::json, 'default', 0 \
                 FROM generate_series($3::bigint, $4::bigint) c ORDER BY c"
            ))
            .bind(&created)
            .bind(&meta)
            .bind(from as i64)
            .bind(to as i64)
            .execute(&mut conn)
            .await?;
        }
        return Ok(());
    }
    anyhow::bail!("the search benchmark fills PostgreSQL only so far")
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
