// Plays the hostile web page against `godwit serve` in headless Chromium:
//   node crosssite.mjs '{"pages": [URL...], "dashboard": URL}'
// Opens each attack page (served by another local server; see attackPage in
// serve_guard_test.go), waits until it has tried everything and prints what
// it saw. Then opens the dashboard by its token link and checks that the page
// took the token and cleaned the address bar. Exits 1 on the first failure.
const { chromium } = await import(process.env.GODWIT_E2E_NODE_PATH + "/playwright-core/index.mjs");

const { pages, dashboard } = JSON.parse(process.argv[2]);
const browser = await chromium.launch({
  executablePath: process.env.GODWIT_E2E_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const fail = async (msg) => { console.log("FAIL " + msg); await browser.close(); process.exit(1); };
try {
  for (const url of pages) {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.title === "done", null, { timeout: 60000 });
    const log = await page.evaluate(() => window.attackLog);
    console.log(new URL(url).host + " -> " + new URL(url).searchParams.get("serve") + ": " + log.join("; "));
    if (log.some((l) => l.startsWith("error"))) await fail("the attack page broke: " + log.join("; "));
    // Keep the page open a moment: the beacon is sent in the background.
    await page.waitForTimeout(300);
    await page.close();
  }
  const page = await browser.newPage();
  await page.goto(dashboard);
  await page.locator("#migrations .empty", { hasText: "No migrations" }).waitFor({ timeout: 20000 });
  const state = await page.evaluate(() => ({ hash: location.hash, stored: !!sessionStorage.getItem("godwit-token"),
    form: getComputedStyle(document.getElementById("token-form")).display }));
  if (state.hash !== "" || !state.stored || state.form !== "none") await fail("after the token link: " + JSON.stringify(state));
  console.log("dashboard opened by its token link");
} catch (e) {
  await fail(String(e.message || e).split("\n")[0]);
}
await browser.close();
