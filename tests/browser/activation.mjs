#!/usr/bin/env node
// Opens a user's activation link in headless Debian chromium and sets a password, as the
// user would:
//   1. with JavaScript: the length hint follows the typing; a common password is refused
//      with its rule named; a good one is set;
//   2. the used link then shows that it no longer works;
//   3. without JavaScript (a second user's link): the plain form post sets the password;
//   4. both users sign in with their passwords (signIn over HTTP).
// Screenshots of each step go to SCREENSHOT_DIR.
//
//   node activation.mjs http://127.0.0.1:PORT LINK_WITH_JS LINK_WITHOUT_JS EMAIL1 EMAIL2 SCREENSHOT_DIR
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, linkJs, linkNoJs, email1, email2, shots] = process.argv.slice(2);
if (!shots) {
  console.error("usage: node activation.mjs BASE LINK_JS LINK_NO_JS EMAIL1 EMAIL2 SCREENSHOT_DIR");
  process.exit(2);
}
const password = "correct horse battery staple";
const launch = (javaScriptEnabled) => {
  const profile = mkdtempSync(join(tmpdir(), "clientele-chromium-"));
  return chromium
    .launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      headless: true,
      javaScriptEnabled,
      viewport: { width: 800, height: 700 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    })
    .then((context) => ({ context, profile }));
};
const check = (ok, what) => {
  if (!ok) {
    console.error(`FAIL: ${what}`);
    process.exitCode = 1;
  } else {
    console.log(`ok: ${what}`);
  }
};

// 1 and 2: with JavaScript.
{
  const { context, profile } = await launch(true);
  const page = await context.newPage();
  const foreign = [];
  page.on("request", (r) => { if (!r.url().startsWith(new URL(base).origin)) foreign.push(r.url()); });
  await page.goto(linkJs);
  check((await page.title()) === "Choose your password", "the activation page opens");
  await page.fill("#password", "abc");
  check((await page.textContent("#rule")).includes("Too short: 3"), "the length hint follows the typing");
  await page.screenshot({ path: join(shots, "activation-form.png") });
  await page.fill("#password", "password1");
  await page.fill("#confirm", "password1");
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  const error = await page.textContent("#error");
  check(error.includes("commonly used"), `a common password is refused with its rule: ${error}`);
  await page.screenshot({ path: join(shots, "activation-refused.png") });
  await page.fill("#password", password);
  await page.fill("#confirm", password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  check((await page.textContent("body")).includes("Your password is set"), "a good password is set");
  await page.screenshot({ path: join(shots, "activation-done.png") });
  await page.goto(linkJs);
  check((await page.textContent("body")).includes("already used"), "the used link says it no longer works");
  await page.screenshot({ path: join(shots, "activation-used.png") });
  check(foreign.length === 0, `nothing loaded from elsewhere: ${foreign}`);
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

// 3: without JavaScript.
{
  const { context, profile } = await launch(false);
  const page = await context.newPage();
  await page.goto(linkNoJs);
  await page.fill("#password", password);
  await page.fill("#confirm", password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  check((await page.textContent("body")).includes("Your password is set"), "without JavaScript the form sets the password");
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

// 4: both sign in.
for (const email of [email1, email2]) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: "mutation($e: String!, $p: String!) { signIn(tenant: \"default\", email: $e, password: $p) { accessToken } }",
      variables: { e: email, p: password },
    }),
  });
  const body = await response.json();
  const ok = typeof body?.data?.signIn?.accessToken === "string";
  check(ok, ok ? `${email} signs in` : `${email} signs in: ${JSON.stringify(body)}`);
}
