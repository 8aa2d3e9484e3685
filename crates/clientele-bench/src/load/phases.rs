//! The measured GraphQL operations against the server, each through [`drive`] with one
//! keep-alive connection per concurrent worker.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{ensure, Context};
use serde_json::{json, Value};

use super::documents::{create_template, edit_template, BY_ID, PAGE};
use super::drive::{drive, histogram, Cpu, Meter, Op, Stats};
use super::http::{self, string_field, Conn, Target, Template, HOLE};
use super::report::Report;

type Body = Box<dyn Fn(usize) -> Vec<u8> + Send + Sync>;

/// One GraphQL operation: the body of request `i`, and optionally where the id the answer
/// holds is kept (at `offset + i`).
struct Graphql {
    target: Arc<Target>,
    body: Body,
    ids: Option<(Arc<Mutex<Vec<String>>>, usize)>,
}

impl Op for Graphql {
    type Worker = Conn;

    async fn worker(&self) -> anyhow::Result<Conn> {
        Conn::open(&self.target).await
    }

    async fn call(&self, conn: &mut Conn, i: usize) -> anyhow::Result<()> {
        let (status, body) = conn.post((self.body)(i)).await?;
        http::check(status, &body)?;
        if let Some((ids, offset)) = &self.ids {
            let id = string_field(&body, "id").context("an answer without an id")?;
            ids.lock().unwrap()[offset + i] = id.to_string();
        }
        Ok(())
    }
}

/// What the phases share: where the server is, whose CPU to count, requests per write.
pub struct Phases {
    pub target: Arc<Target>,
    pub meter: Meter,
    pub n: usize,
}

impl Phases {
    async fn run(&self, concurrency: usize, total: usize, body: Body) -> anyhow::Result<Stats> {
        let op = Graphql {
            target: self.target.clone(),
            body,
            ids: None,
        };
        drive(&self.meter, concurrency, total, op).await
    }

    /// createCustomer at 1 and at 32, then editCustomer at 1 and 32 on the customers
    /// created; returns the ids created (at 32 first, then at 1).
    pub async fn writes(&self, report: &mut Report) -> anyhow::Result<Arc<Vec<String>>> {
        let n = self.n;
        let ids = Arc::new(Mutex::new(vec![String::new(); n + n / 4]));
        for (concurrency, total, offset, prefix) in
            [(1, n / 4, n, "single"), (32, n, 0, "customer")]
        {
            let template = create_template(prefix);
            let op = Graphql {
                target: self.target.clone(),
                body: Box::new(move |i| template.render(&[&i])),
                ids: Some((ids.clone(), offset)),
            };
            let stats = drive(&self.meter, concurrency, total, op).await?;
            if concurrency == 1 {
                report.create_c1 = stats;
            } else {
                report.create = stats;
            }
        }
        let ids: Arc<Vec<String>> = Arc::new(ids.lock().unwrap().clone());
        ensure!(ids.iter().all(|id| !id.is_empty()), "a create left no id");
        for (concurrency, total, prefix) in [(1, n / 4, "single"), (32, n, "org")] {
            let (template, ids) = (edit_template(prefix), ids.clone());
            let body: Body = Box::new(move |i| template.render(&[&ids[i], &i]));
            let stats = self.run(concurrency, total, body).await?;
            if concurrency == 1 {
                report.edit_c1 = stats;
            } else {
                report.edit = stats;
            }
        }
        Ok(ids)
    }

    /// customer(id) at 32 over the created customers, then the first page newest first.
    pub async fn reads(&self, ids: &Arc<Vec<String>>, report: &mut Report) -> anyhow::Result<()> {
        let n = self.n;
        let (template, ids) = (Template::graphql(BY_ID, json!({ "id": HOLE })), ids.clone());
        report.by_id = self
            .run(
                32,
                4 * n,
                Box::new(move |i| template.render(&[&ids[i % n]])),
            )
            .await?;
        let template = Template::graphql(PAGE, json!({}));
        self.check_page(&template).await?;
        report.page = self
            .run(32, n, Box::new(move |_| template.render(&[])))
            .await?;
        Ok(())
    }

    /// Once, outside the measured window: the page holds 50 customers, newest first.
    async fn check_page(&self, page: &Template) -> anyhow::Result<()> {
        let mut conn = Conn::open(&self.target).await?;
        let body = http::call(&mut conn, page, &[]).await?;
        let value: Value = serde_json::from_slice(&body)?;
        let edges = value["data"]["customers"]["edges"]
            .as_array()
            .context("a page without edges")?;
        ensure!(edges.len() == 50, "a page of {} customers", edges.len());
        let newest = http::call(&mut conn, &create_template("newest"), &[&0]).await?;
        let body = http::call(&mut conn, page, &[]).await?;
        ensure!(
            string_field(&body, "id") == string_field(&newest, "id"),
            "the page does not start with the newest customer"
        );
        Ok(())
    }

    /// Edits of a customer with `history` events next to edits of a fresh customer,
    /// alternating so both see the same machine noise.
    pub async fn history(&self, history: usize, report: &mut Report) -> anyhow::Result<()> {
        let mut conn = Conn::open(&self.target).await?;
        let body = http::call(&mut conn, &create_template("long history"), &[&0]).await?;
        let long = string_field(&body, "id").context("no id")?.to_string();
        let (template, id) = (edit_template("v"), long.clone());
        self.run(
            1,
            history.saturating_sub(1),
            Box::new(move |i| template.render(&[&id, &i])),
        )
        .await?;
        let body = http::call(&mut conn, &create_template("fresh"), &[&0]).await?;
        let fresh = string_field(&body, "id").context("no id")?.to_string();
        let edit = edit_template("after");
        let (mut long_h, mut fresh_h) = (histogram(), histogram());
        let (mut long_secs, mut fresh_secs) = (0.0, 0.0);
        let mark = self.meter.mark().await;
        for i in 0..500 {
            for (target, hist, secs) in [
                (&long, &mut long_h, &mut long_secs),
                (&fresh, &mut fresh_h, &mut fresh_secs),
            ] {
                let began = Instant::now();
                http::call(&mut conn, &edit, &[target, &i]).await?;
                let elapsed = began.elapsed();
                *secs += elapsed.as_secs_f64();
                hist.saturating_record(elapsed.as_micros() as u64);
            }
        }
        // The two alternate in one window: each gets half of its CPU time.
        let cpu = self.meter.since(&mark).await;
        let half = Cpu {
            wall: cpu.wall / 2.0,
            generator: cpu.generator / 2.0,
            server: cpu.server / 2.0,
            postgres: cpu.postgres.map(|p| p / 2.0),
            backends_lost: cpu.backends_lost,
        };
        report.long_edit = Stats::from(&long_h, long_secs, half);
        report.fresh_edit = Stats::from(&fresh_h, fresh_secs, half);
        Ok(())
    }
}
