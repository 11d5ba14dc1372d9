// Takes the README's pictures from a running AppHost (scripts/run): the dashboard's resources page, one
// prompt request's trace and its model call's span, and the Scalar API reference. Debian's chromium, driven by playwright-core.
//   apt-get install chromium && npm ci    (once, in this folder)
//   node capture.mjs <dashboard login URL> <api URL> <output folder>
import { chromium } from 'playwright-core';

const [loginUrl, apiUrl, out] = process.argv.slice(2);
if (!loginUrl || !apiUrl || !out) {
  console.error('usage: node capture.mjs <dashboard login URL> <api URL> <output folder>');
  process.exit(2);
}
const dashboard = new URL(loginUrl).origin;

// This machine has no developer certificate, on purpose (plain HTTP on loopback): that notice is not news here.
async function dismissNotices(page) {
  for (const button of await page.locator('fluent-button[aria-label="Dismiss notification"]').all()) {
    if (await button.isVisible()) {
      await button.click();
    }
  }
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 }, colorScheme: 'light' });

  // Resources: every resource running and healthy.
  await page.goto(loginUrl);
  await page.waitForURL(`${dashboard}/**`);
  await page.goto(`${dashboard}/`);
  for (const name of ['api', 'worker', 'postgres', 'redis-server']) {
    await page.getByText(name, { exact: true }).first().waitFor({ timeout: 60_000 });
  }
  await dismissNotices(page);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${out}/dashboard-resources.png` });

  // One prompt request's trace: Api → Postgres → Worker → the model call.
  await page.goto(`${dashboard}/traces`);
  const row = page.getByText('POST /api/v1/prompt-requests', { exact: false }).first();
  await row.waitFor({ timeout: 60_000 });
  await row.click();
  await page.getByText('worker', { exact: false }).first().waitFor({ timeout: 30_000 });
  await dismissNotices(page);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${out}/dashboard-trace.png` });

  // The model call's span: Microsoft.Extensions.AI's GenAI attributes, and ours (aiprompts.*).
  const chat = page.getByText(/^chat local-text$/).first();
  await chat.click();
  await page.getByText('gen_ai.provider.name', { exact: false }).first().waitFor({ timeout: 30_000 });
  await dismissNotices(page);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${out}/dashboard-genai-span.png` });

  // The API reference, as a client developer first sees it.
  await page.goto(`${apiUrl}/scalar`);
  await page.getByText('AiPrompts API', { exact: false }).first().waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${out}/scalar.png` });
} finally {
  await browser.close();
}
