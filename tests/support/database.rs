//! Fresh databases for tests: a new PostgreSQL database or a new SQLite file each.

use sqlx::{Connection, PgConnection};

use crate::Backend;

/// The admin URL used to create test databases when none is configured.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database made for one test.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
}

fn admin_url() -> String {
    std::env::var("CLIENTELE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

/// Creates a fresh database. PostgreSQL being unreachable fails the test, never skips it.
pub async fn fresh_database(backend: Backend) -> TestDatabase {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("clientele-test-{id}"));
            TestDatabase {
                backend,
                url: format!("sqlite://{}", dir.join("clientele.db").display()),
            }
        }
        Backend::Postgres => {
            let admin = admin_url();
            let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is unreachable at {admin}: {e}\n\
                     Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
                     or point CLIENTELE_TEST_DATABASE_URL at a server where this user may CREATE DATABASE."
                )
            });
            drop_leftovers(&mut conn).await;
            let name = format!("clientele_test_{}_{id}", std::process::id());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("CREATE DATABASE");
            let base = admin
                .rsplit_once('/')
                .map_or(admin.as_str(), |(base, _)| base);
            TestDatabase {
                backend,
                url: format!("{base}/{name}"),
            }
        }
    }
}

/// Drops test databases left by earlier runs (other process ids), once per run.
async fn drop_leftovers(conn: &mut PgConnection) {
    static ONCE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    ONCE.get_or_init(|| async {
        let mine = format!("clientele_test_{}_%", std::process::id());
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT datname FROM pg_database WHERE datname LIKE 'clientele\\_test\\_%' AND datname NOT LIKE $1",
        )
        .bind(mine)
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_default();
        for name in names {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut *conn)
                .await;
        }
    })
    .await;
}
