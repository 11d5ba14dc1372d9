// Takes the README's Scalar pictures from a running Api: the prompts API (POST /ai/prompts/), the Assistants
// surface (POST /api/v1/threads/{thread_id}/runs) and the OpenAI-compatible surface (POST /openai/v1/responses), each as
// its tag's section opens.
//   node scalar.mjs <api URL> <output folder>
import { chromium } from 'playwright-core';

const [apiUrl, out] = process.argv.slice(2);
if (!apiUrl || !out) {
  console.error('usage: node scalar.mjs <api URL> <output folder>');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, colorScheme: 'light' });
  await page.goto(`${apiUrl}/scalar`);
  await page.getByText('AiPrompts API', { exact: false }).first().waitFor({ timeout: 60_000 });
  for (const [tag, operation, file] of [
    ['Prompts', 'Submit a prompt: stored as pending', 'scalar-prompts-api.png'],
    ['Assistants', 'Run an assistant on the thread', 'scalar-assistants-api.png'],
    ['OpenAI-compatible', 'A model response', 'scalar-openai-compatible.png'],
  ]) {
    const sidebar = page.locator('aside, nav').first();
    await sidebar.getByText(tag, { exact: true }).first().click();
    await sidebar.getByText(operation, { exact: false }).first().click();
    await page.getByRole('heading', { name: new RegExp(operation) }).first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: `${out}/${file}` });
  }
} finally {
  await browser.close();
}
