//! schema.graphql is generated; this keeps it true. And the schema describes itself: every
//! type, field, argument, input field and enum value has a description, read back through
//! introspection from the running app.

use clientele_tests::{on_both_backends, spawn_app, Backend};
use serde_json::{json, Value};

on_both_backends!(every_type_field_argument_and_enum_value_has_a_description);

#[test]
fn schema_graphql_matches_the_schema() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let generated = clientele_graphql::sdl();
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    if checked_in != generated {
        std::fs::write(path, &generated).expect("schema.graphql is writable");
        panic!("schema.graphql was out of date and has been rewritten; review and commit it");
    }
}

/// GraphQL's own scalars, described by the specification rather than by us.
const BUILT_IN: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

const INTROSPECTION: &str = "{ __schema { types { kind name description \
    fields(includeDeprecated: true) { name description args { name description } } \
    inputFields { name description } \
    enumValues(includeDeprecated: true) { name description } } } }";

fn undescribed(item: &Value) -> bool {
    item["description"]
        .as_str()
        .is_none_or(|d| d.trim().is_empty())
}

fn items<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value[key].as_array().into_iter().flatten()
}

async fn every_type_field_argument_and_enum_value_has_a_description(backend: Backend) {
    let app = spawn_app(backend).await;
    let schema = app.ok(INTROSPECTION, json!({})).await;
    let mut missing = Vec::new();
    for ty in items(&schema["__schema"], "types") {
        let name = ty["name"].as_str().unwrap_or_default();
        if name.starts_with("__") || BUILT_IN.contains(&name) {
            continue;
        }
        if undescribed(ty) {
            missing.push(format!("type {name}"));
        }
        for field in items(ty, "fields") {
            let field_name = field["name"].as_str().unwrap_or_default();
            if undescribed(field) {
                missing.push(format!("field {name}.{field_name}"));
            }
            for arg in items(field, "args").filter(|a| undescribed(a)) {
                missing.push(format!("argument {name}.{field_name}({})", arg["name"]));
            }
        }
        for input in items(ty, "inputFields").filter(|f| undescribed(f)) {
            missing.push(format!("input field {name}.{}", input["name"]));
        }
        for value in items(ty, "enumValues").filter(|v| undescribed(v)) {
            missing.push(format!("enum value {name}.{}", value["name"]));
        }
    }
    assert!(
        missing.is_empty(),
        "{} schema items have no description:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
