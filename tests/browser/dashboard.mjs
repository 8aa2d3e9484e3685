#!/usr/bin/env node
// Opens the operations page (/dashboard) in headless Debian chromium with a token link and
// checks that it is live without the internet:
//   1. the page connects and shows the counts by account status;
//   2. a customer created through the API shows in the counts (PREPARATION one higher) and
//      in the latest events within a second;
//   3. a deletion request made through the API shows in the open requests with its time
//      left;
//   4. every request it makes stays on our server.
// A screenshot is written to SCREENSHOT_DIR/dashboard.png.
//
//   node dashboard.mjs http://127.0.0.1:PORT TOKEN SCREENSHOT_DIR
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, token, shots] = process.argv.slice(2);
if (!base || !token || !shots) {
  console.error("usage: node dashboard.mjs BASE_URL TOKEN SCREENSHOT_DIR");
  process.exit(2);
}
const origin = new URL(base).origin;
const profile = mkdtempSync(join(tmpdir(), "clientele-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

const failures = [];
const step = (name) => console.log(`browser: ${name}`);
const api = (query) =>
  fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  }).then((r) => r.json());
try {
  const outside = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== origin && !url.protocol.startsWith("data")) {
      outside.push(route.request().url());
      return route.abort();
    }
    return route.continue();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (error) => failures.push(`page error: ${error.message}`));
  await page.goto(`${base}/dashboard?token=${encodeURIComponent(token)}`);
  const preparation = () =>
    page.evaluate(() => {
      const tile = document.querySelector('.count[data-status="PREPARATION"] b');
      return tile ? Number(tile.textContent) : null;
    });
  const waitFor = async (check, ms) => {
    const started = Date.now();
    while (Date.now() - started < ms) {
      if (await check()) return Date.now() - started;
      await page.waitForTimeout(20);
    }
    return null;
  };
  if ((await waitFor(async () => (await preparation()) !== null, 15000)) === null) {
    failures.push("the counts never showed");
  } else {
    step("the page is live and shows the counts");
    // Let the events subscription be acknowledged before creating.
    await page.waitForTimeout(500);
    const before = await preparation();
    const name = `seen on the dashboard ${Date.now()}`;
    const created = await api(`mutation { createCustomer(input: { name: "${name}" }) { id name } }`);
    if (!created.data) failures.push(`createCustomer failed: ${JSON.stringify(created)}`);
    const counted = await waitFor(async () => (await preparation()) === before + 1, 1000);
    const id = created.data?.createCustomer?.id;
    const listed = await waitFor(() => page.evaluate((n) => document.getElementById("events").textContent.includes(n), id), 1000);
    if (counted === null) failures.push(`the counts did not show the new customer within 1 s (${before} → ${await preparation()})`);
    else step(`the counts showed the new customer after ${counted} ms`);
    if (listed === null) failures.push("the latest events did not show the new customer within 1 s");
    else step(`the latest events showed the new customer after ${listed} ms`);

    const requested = await api(`mutation { requestDeletion(customerId: "${id}", reason: "shown on the page") { id } }`);
    if (!requested.data) failures.push(`requestDeletion failed: ${JSON.stringify(requested)}`);
    // The service normalises the name; the page shows it as stored.
    const stored = created.data?.createCustomer?.name;
    const shown = await waitFor(() => page.evaluate((n) => document.getElementById("requests").textContent.includes(n), stored), 2000);
    if (shown === null) failures.push("the open deletion requests did not show the new request within 2 s");
    else step(`the open deletion requests showed it after ${shown} ms, with the time left`);
    await page.waitForTimeout(1100);
    const shot = join(shots, "dashboard.png");
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`browser: screenshot ${shot}`);
  }
  if (outside.length > 0) failures.push(`requests outside our server: ${outside.join(", ")}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
if (failures.length > 0) {
  for (const failure of failures) console.error(`browser: FAILED ${failure}`);
  process.exit(1);
}
console.log("browser: the dashboard is live offline");
