#!/usr/bin/env node
// Opens the GraphiQL page in headless Debian chromium, as a user with the link printed on
// first start would, and checks that it works without the internet:
//   1. the page renders GraphiQL, and every request it makes stays on our server;
//   2. `{ __typename }` runs, with the token as the Authorization header, and the result
//      pane shows "__typename": "Query";
//   3. a subscription runs over /graphql/ws (the token in connection_init) and shows the
//      event of a customer created meanwhile.
// A screenshot of the page after the query is written to SCREENSHOT_DIR.
//
//   node graphiql.mjs http://127.0.0.1:PORT TOKEN SCREENSHOT_DIR
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, token, shots] = process.argv.slice(2);
if (!base || !token || !shots) {
  console.error("usage: node graphiql.mjs BASE_URL TOKEN SCREENSHOT_DIR");
  process.exit(2);
}
const origin = new URL(base).origin;
const profile = mkdtempSync(join(tmpdir(), "clientele-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const failures = [];
const step = (name) => console.log(`browser: ${name}`);
try {
  // Anything not for our server is refused and counted: the page must not need it.
  const outside = [];
  let authorized = 0;
  await context.route("**/*", (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.origin !== origin && !url.protocol.startsWith("data")) {
      outside.push(request.url());
      return route.abort();
    }
    if (url.pathname === "/graphql" && request.method() === "POST") {
      if (request.headers()["authorization"] === `Bearer ${token}`) authorized += 1;
    }
    return route.continue();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (error) => failures.push(`page error: ${error.message}`));
  const frames = [];
  page.on("websocket", (ws) => {
    ws.on("framesent", (f) => frames.push(["sent", String(f.payload)]));
    ws.on("framereceived", (f) => frames.push(["received", String(f.payload)]));
  });

  await page.goto(`${base}/graphql?token=${encodeURIComponent(token)}`);
  await page.locator(".graphiql-container .graphiql-query-editor .CodeMirror").waitFor({ timeout: 30000 });
  step("GraphiQL rendered");

  const run = async (query) => {
    await page.evaluate((q) => {
      document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.setValue(q);
    }, query);
    // GraphiQL parses the editor after a short debounce, and picks the transport from that
    // parse (a subscription goes over the WebSocket): run only once it has parsed.
    await page.waitForTimeout(1000);
    await page.locator("button.graphiql-execute-button").click();
  };
  const result = () =>
    page.evaluate(() => {
      const editor = document.querySelector(".result-window .CodeMirror");
      return editor ? editor.CodeMirror.getValue() : "";
    });
  const waitForResult = async (text, what) => {
    for (let i = 0; i < 300; i += 1) {
      if ((await result()).includes(text)) return true;
      await page.waitForTimeout(100);
    }
    failures.push(`${what}: the result pane never showed ${text}; it shows ${await result()}`);
    return false;
  };

  await run("{ __typename }");
  if (await waitForResult('"__typename": "Query"', "query")) step('{ __typename } answered "__typename": "Query"');
  if (authorized === 0) failures.push("the query was not sent with Authorization: Bearer <token>");
  const shot = join(shots, "graphiql.png");
  await page.screenshot({ path: shot });
  console.log(`browser: screenshot ${shot}`);

  await run("subscription { customerEvents { type customerId } }");
  // Once the server acknowledged the subscription, create a customer it must report.
  for (let i = 0; i < 100 && !frames.some(([way, f]) => way === "received" && f.includes("connection_ack")); i += 1) {
    await page.waitForTimeout(100);
  }
  await page.waitForTimeout(500);
  const created = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'mutation { createCustomer(input: { name: "seen in the browser" }) { id } }' }),
  }).then((r) => r.json());
  if (!created.data) failures.push(`createCustomer failed: ${JSON.stringify(created)}`);
  if (await waitForResult('"type": "CustomerCreated"', "subscription")) step("the subscription showed the new customer");
  const init = frames.find(([way, f]) => way === "sent" && f.includes("connection_init"));
  if (!init || !init[1].includes(token)) failures.push(`connection_init did not carry the token: ${init?.[1]}`);
  await page.screenshot({ path: join(shots, "graphiql-subscription.png") });

  if (outside.length > 0) failures.push(`requests outside our server: ${outside.join(", ")}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
if (failures.length > 0) {
  for (const failure of failures) console.error(`browser: FAILED ${failure}`);
  process.exit(1);
}
console.log("browser: GraphiQL works offline");
