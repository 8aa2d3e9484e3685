//! Files that cannot be read to their end are refused whole, before anything is written.

use clientele_tests::{on_both_backends, spawn_app, Backend};

use super::upload;

on_both_backends!(
    a_partial_import_that_meets_an_unreadable_line_writes_nothing,
    rows_with_too_many_or_too_long_fields_refuse_the_file_naming_the_line,
);

/// 300 valid rows, then a line that is not UTF-8: a partial import used to write the first
/// 256 and answer only the error. The whole file is read before anything is written.
async fn a_partial_import_that_meets_an_unreadable_line_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut file = b"Name\n".to_vec();
    for i in 0..300 {
        file.extend_from_slice(format!("customer-{i}\n").as_bytes());
    }
    file.extend_from_slice(b"caf\xe9\n");
    let body = upload(&app, &file, "PARTIAL", "SKIP").await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert!(
        error["message"].as_str().unwrap().contains("line 302"),
        "{body}"
    );
    assert_eq!(app.event_count().await, 0, "nothing is written");
}

async fn rows_with_too_many_or_too_long_fields_refuse_the_file_naming_the_line(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut many = b"Name\nacme\n".to_vec();
    many.extend(std::iter::repeat_n(b',', 8_000_000));
    many.push(b'\n');
    let mut long = b"Name\nacme\n".to_vec();
    long.extend(std::iter::repeat_n(b'x', 5000));
    long.push(b'\n');
    for (file, says) in [
        (many, "line 3 has more than 64 fields"),
        (long, "line 3 has a field longer than 4096 bytes"),
    ] {
        for mode in ["PARTIAL", "ALL_OR_NOTHING"] {
            let body = upload(&app, &file, mode, "SKIP").await;
            let error = &body["errors"][0];
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
            assert_eq!(error["extensions"]["field"], "file");
            assert!(
                error["message"].as_str().unwrap().contains(says),
                "{says}: {body}"
            );
        }
    }
    assert_eq!(app.event_count().await, 0);
}
