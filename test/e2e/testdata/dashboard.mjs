// Drives the dashboard of a running `godwit serve` in headless Chromium:
//   node dashboard.mjs URL MIGRATION SCREENSHOT.png
// It waits for the migration to show as consistent, checks its table rows,
// takes a screenshot, clicks Verify and waits for "passed", then clicks
// Complete (accepting the confirmation) and waits for COMPLETED with a freeze.
// Prints one line per step; exits 1 on the first failure.
// playwright-core is imported from GODWIT_E2E_NODE_PATH (scripts/browser.sh installs it there).
const { chromium } = await import(process.env.GODWIT_E2E_NODE_PATH + "/playwright-core/index.mjs");

const [url, name, shot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.GODWIT_E2E_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const fail = async (msg) => { console.log("FAIL " + msg); await browser.close(); process.exit(1); };
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 640 } });
  page.on("dialog", (d) => d.accept());
  await page.goto(url);
  if (process.env.GODWIT_E2E_TOKEN) {
    // The page asks for the token; fill its form as a user would.
    await page.locator("#token").waitFor({ state: "visible", timeout: 10000 });
    await page.locator("#token").fill(process.env.GODWIT_E2E_TOKEN);
    await page.locator("#token-form button").click();
    console.log("token entered");
  }
  const sec = page.locator(`section.migration[data-name="${name}"]`);
  await sec.locator(".consistent", { hasText: "yes" }).waitFor({ timeout: 60000 });
  console.log("consistent shown");
  const rows = await sec.locator("tr.table-row").count();
  if (rows < 1) await fail("no table rows");
  console.log(`table rows: ${rows}`);
  await sec.locator("svg.lag-chart").waitFor();
  await page.waitForFunction((n) => {
    const s = document.querySelector(`section.migration[data-name="${n}"] svg.lag-chart`);
    return s && Number(s.dataset.points) >= 2;
  }, name, { timeout: 30000 });
  console.log("lag chart drawn");
  await page.screenshot({ path: shot, fullPage: true });
  console.log("screenshot " + shot);
  await sec.locator("button.verify").click();
  await sec.locator(".verify-state", { hasText: "passed" }).waitFor({ timeout: 60000 });
  console.log("verify passed");
  await sec.locator("button.complete").click();
  await page.locator(`section.migration[data-name="${name}"][data-state="COMPLETED"]`).waitFor({ timeout: 60000 });
  const freeze = await page.locator(`section.migration[data-name="${name}"] .freeze`).textContent();
  console.log("completed, freeze " + freeze);
} catch (e) {
  await fail(String(e.message || e).split("\n")[0]);
}
await browser.close();
