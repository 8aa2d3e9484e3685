//! Our own fuzz test (issue 14 §5): requests built from the schema's own introspection.
//! Every query and mutation is called with its arguments filled with hostile values (long,
//! empty, NUL and control characters, unicode, SQL-like text, wrong types, huge numbers,
//! foreign-tenant ids) from a seeded generator, so a failure names the seed and the request
//! and reproduces. The test fails on any 5xx, any error without `extensions.code`, any
//! `INTERNAL`, any panic in the server's code, and any event written by a refused mutation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use clientele_graphql::Role;
use clientele_tests::{mint, on_both_backends, spawn_app, Backend};
use serde_json::{json, Map, Value};

on_both_backends!(hostile_requests_built_from_introspection_never_break_the_server);

/// The seed; set `CLIENTELE_FUZZ_SEED` to replay a failure.
const SEED: u64 = 0x5eed_c11e_47e1_e001;
/// Requests per backend, unless the time budget runs out first.
const REQUESTS: usize = 4000;
const BUDGET: Duration = Duration::from_secs(50);

/// Panics raised in the server's code (not in test code), counted by a hook installed once.
static SERVER_PANICS: AtomicUsize = AtomicUsize::new(0);
static PANIC_MESSAGES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn count_server_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = Arc::new(std::panic::take_hook());
        std::panic::set_hook(Box::new(move |info| {
            if info
                .location()
                .is_some_and(|l| l.file().starts_with("crates/"))
            {
                SERVER_PANICS.fetch_add(1, Ordering::SeqCst);
                PANIC_MESSAGES.lock().unwrap().push(info.to_string());
            }
            previous(info);
        }));
    });
}

/// SplitMix64: small, seeded, good enough to pick values.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const TYPE_REF: &str =
    "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

fn introspection() -> String {
    format!(
        "{{ __schema {{ queryType {{ name }} mutationType {{ name }} types {{ kind name \
         fields {{ name type {{ {TYPE_REF} }} args {{ name type {{ {TYPE_REF} }} }} }} \
         inputFields {{ name type {{ {TYPE_REF} }} }} enumValues {{ name }} }} }} }}"
    )
}

/// The schema as introspection tells it.
struct Schema {
    types: Map<String, Value>,
}

impl Schema {
    fn named(&self, name: &str) -> &Value {
        &self.types[name]
    }
}

/// `[ID!]!` from a type reference.
fn render(t: &Value) -> String {
    match t["kind"].as_str().unwrap() {
        "NON_NULL" => format!("{}!", render(&t["ofType"])),
        "LIST" => format!("[{}]", render(&t["ofType"])),
        _ => t["name"].as_str().unwrap().to_string(),
    }
}

/// The named type under the wrappers.
fn base(t: &Value) -> &Value {
    match t["kind"].as_str().unwrap() {
        "NON_NULL" | "LIST" => base(&t["ofType"]),
        _ => t,
    }
}

/// What the generator may use besides its own inventions.
struct Ids {
    own: Vec<String>,
    foreign: String,
}

fn hostile_text(rng: &mut Rng, ids: &Ids) -> Value {
    let long = "A".repeat(1 + rng.below(20_000));
    let texts = [
        String::new(),
        " ".into(),
        long,
        "\u{0}".into(),
        "a\u{0}b".into(),
        "\u{1}\u{7}\u{1b}[31m".into(),
        "line\nbreak\ttab\r".into(),
        "\u{202e}gnp.exe\u{200b}\u{feff}".into(),
        "名前🦀\u{10FFFF}".into(),
        "é".repeat(300),
        "' OR 1=1 --".into(),
        "'); DROP TABLE events; --".into(),
        "%_\\%".into(),
        "${jndi:ldap://x}".into(),
        "=1+1".into(),
        "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        "00000000-0000-0000-0000-000000000000".into(),
        ids.foreign.clone(),
        ids.foreign.to_uppercase(),
        rng.pick(&ids.own).clone(),
        rng.pick(&ids.own).clone(),
        "-1".into(),
        "99999999999999999999999".into(),
        "NaN".into(),
        "2026-13-45T25:61:61Z".into(),
        "1970-01-01T00:00:00Z".into(),
        "9999-12-31T23:59:59Z".into(),
        "0-0".into(),
        "9223372036854775807-9223372036854775807".into(),
        "acme".into(),
        "x@example.org".into(),
        "CDN".into(),
    ];
    Value::String(rng.pick(&texts).clone())
}

fn hostile_number(rng: &mut Rng) -> Value {
    let numbers = [
        json!(0),
        json!(-1),
        json!(1),
        json!(7),
        json!(100),
        json!(101),
        json!(i32::MAX),
        json!(i32::MIN),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1e300),
        json!(-0.5),
        json!(3.5),
    ];
    rng.pick(&numbers).clone()
}

/// A value for type reference `t`: mostly of the right type, sometimes not.
fn value(rng: &mut Rng, schema: &Schema, ids: &Ids, t: &Value, depth: usize) -> Value {
    if rng.chance(4) {
        // A wrong type, whatever the argument is.
        return match rng.below(4) {
            0 => json!(null),
            1 => json!({ "x": 1 }),
            2 => json!([1, "two"]),
            _ => json!(true),
        };
    }
    match t["kind"].as_str().unwrap() {
        "NON_NULL" => value(rng, schema, ids, &t["ofType"], depth),
        "LIST" => {
            let n = if depth > 2 { 0 } else { rng.below(4) };
            Value::Array(
                (0..n)
                    .map(|_| value(rng, schema, ids, &t["ofType"], depth + 1))
                    .collect(),
            )
        }
        "ENUM" => {
            let named = schema.named(t["name"].as_str().unwrap());
            let values = named["enumValues"].as_array().unwrap();
            match rng.chance(85) {
                true => rng.pick(values)["name"].clone(),
                false => hostile_text(rng, ids),
            }
        }
        "INPUT_OBJECT" => {
            let named = schema.named(t["name"].as_str().unwrap());
            let mut object = Map::new();
            for field in named["inputFields"].as_array().unwrap() {
                let required = field["type"]["kind"] == "NON_NULL";
                if depth < 4 && (required || rng.chance(50)) {
                    let v = value(rng, schema, ids, &field["type"], depth + 1);
                    object.insert(field["name"].as_str().unwrap().to_string(), v);
                }
            }
            Value::Object(object)
        }
        _ => match t["name"].as_str().unwrap() {
            "Int" | "Float" => hostile_number(rng),
            "Boolean" => json!(rng.chance(50)),
            "JSON" => match rng.below(3) {
                0 => json!({ "a": [1, "\u{0}", null] }),
                1 => hostile_text(rng, ids),
                _ => hostile_number(rng),
            },
            _ => match rng.chance(90) {
                true => hostile_text(rng, ids),
                false => hostile_number(rng),
            },
        },
    }
}

/// One operation: `root` field `field` called with generated variables.
fn request(rng: &mut Rng, schema: &Schema, ids: &Ids, root: &str, field: &Value) -> Value {
    let name = field["name"].as_str().unwrap();
    let mut definitions = Vec::new();
    let mut arguments = Vec::new();
    let mut variables = Map::new();
    for (i, arg) in field["args"].as_array().unwrap().iter().enumerate() {
        let required = arg["type"]["kind"] == "NON_NULL";
        if !required && rng.chance(40) {
            continue;
        }
        if required && rng.chance(2) {
            continue; // a missing required argument
        }
        let var = format!("v{i}");
        definitions.push(format!("${var}: {}", render(&arg["type"])));
        arguments.push(format!("{}: ${var}", arg["name"].as_str().unwrap()));
        variables.insert(var, value(rng, schema, ids, &arg["type"], 0));
    }
    let returned = base(&field["type"]);
    let selection = match returned["kind"].as_str().unwrap() {
        "SCALAR" | "ENUM" => "",
        _ => " { __typename }",
    };
    let keyword = if root == "Mutation" {
        "mutation"
    } else {
        "query"
    };
    let definitions = match definitions.is_empty() {
        true => String::new(),
        false => format!("({})", definitions.join(", ")),
    };
    let arguments = match arguments.is_empty() {
        true => String::new(),
        false => format!("({})", arguments.join(", ")),
    };
    json!({
        "query": format!("{keyword}{definitions} {{ {name}{arguments}{selection} }}"),
        "variables": variables,
    })
}

async fn hostile_requests_built_from_introspection_never_break_the_server(backend: Backend) {
    count_server_panics();
    let seed = std::env::var("CLIENTELE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    let app = spawn_app(backend).await;
    let mut own = Vec::new();
    for name in ["fuzz-one", "fuzz-two", "fuzz-three"] {
        own.push(app.new_customer(name, None).await);
    }
    own.push(app.new_customer("fuzz-inner", Some(&own[0].clone())).await);
    let outsider = mint("eve", "other-tenant", Role::TenantAdmin, None);
    let foreign = app
        .graphql_as(
            &outsider,
            "mutation { createCustomer(input: { name: \"foreign\" }) { id } }",
            json!({}),
        )
        .await;
    let foreign = foreign["data"]["createCustomer"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Most requests as the tenant admin (who reaches the most code), the rest as the
    // other roles, one of them bound to a customer.
    let tokens = [
        app.token.clone(),
        app.token.clone(),
        app.token.clone(),
        mint("sam", "default", Role::Seller, None),
        mint("ada", "default", Role::Auditor, None),
        mint("cua", "default", Role::CustomerAdmin, Some(&own[0])),
        mint("cuu", "default", Role::CustomerUser, Some(&own[3])),
    ];
    let ids = Ids { own, foreign };

    let schema = app.ok(&introspection(), json!({})).await;
    let types: Map<String, Value> = schema["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t.clone()))
        .collect();
    let schema = Schema { types };
    let mut operations = Vec::new();
    for root in ["Query", "Mutation"] {
        for field in schema.named(root)["fields"].as_array().unwrap() {
            // A file upload is multipart; import has its own tests.
            let uploads = field["args"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| base(&a["type"])["name"] == "Upload");
            if !uploads {
                operations.push((root, field.clone()));
            }
        }
    }
    assert!(operations.len() > 40, "{} operations", operations.len());

    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut sent = 0;
    let mut problems = Vec::new();
    while sent < REQUESTS && started.elapsed() < BUDGET && problems.len() < 10 {
        // Every operation in turn, so each is called about equally often.
        let (root, field) = &operations[sent % operations.len()];
        let body = request(&mut rng, &schema, &ids, root, field);
        sent += 1;
        let before = app.event_count().await;
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(rng.pick(&tokens))
            .json(&body)
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                problems.push(format!("no answer ({error}) to {body}"));
                continue;
            }
        };
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_server_error() {
            problems.push(format!("HTTP {status} for {body}: {text:.500}"));
            continue;
        }
        let Ok(answer) = serde_json::from_str::<Value>(&text) else {
            if status.is_success() {
                problems.push(format!("not JSON for {body}: {text:.500}"));
            }
            continue;
        };
        let errors = answer["errors"].as_array().cloned().unwrap_or_default();
        for error in &errors {
            match error["extensions"]["code"].as_str() {
                None => problems.push(format!("no code: {error} for {body:.2000}")),
                Some("INTERNAL") => problems.push(format!("INTERNAL: {error} for {body:.2000}")),
                Some(_) => {}
            }
        }
        if *root == "Mutation" && !errors.is_empty() {
            let after = app.event_count().await;
            if after != before {
                problems.push(format!(
                    "a refused mutation wrote {} event(s): {body:.2000} -> {answer:.1000}",
                    after - before
                ));
            }
        }
    }
    let panics = SERVER_PANICS.load(Ordering::SeqCst);
    if panics > 0 {
        problems.push(format!(
            "{panics} panic(s) in the server: {:?}",
            PANIC_MESSAGES.lock().unwrap()
        ));
    }
    assert!(
        problems.is_empty(),
        "seed {seed:#x}, {sent} requests:\n{}",
        problems.join("\n")
    );
    assert!(sent >= 2000, "only {sent} requests in {BUDGET:?}");
}
