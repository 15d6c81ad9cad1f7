// Opens the developer console in headless Chromium, clicks Approve on the first pending
// request, and waits until the console reports the decision. Exit code 0 on success.
//
// Usage: node approve.mjs <console-url>
import { chromium } from "playwright-core";

const [url] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const browser = await chromium.launch({
  executablePath,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(url);
  await page.locator("button.approve").first().click();
  await page.locator("#status", { hasText: "approve → HTTP 204" }).waitFor();
  await page.locator("#no-requests").waitFor({ state: "visible" });
  console.log("approved");
} finally {
  await browser.close();
}
