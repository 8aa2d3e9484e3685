//! schema.graphql is generated; this keeps it true.

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
