// Takes the admin console's pictures from a running AppHost (scripts/run): each page in English and in Persian
// (right to left) at desktop width, and a few at phone width. Debian's chromium, driven by playwright-core.
//   node console.mjs <console URL> <email> <password> <output folder> [prompt type with versions]
// ONLY=playground,usage takes only those pages.
// Pages show what the system holds: submit a few requests and define a prompt type with two versions first.
import { chromium } from 'playwright-core';

const [base, email, password, out, promptType = 'summary'] = process.argv.slice(2);
if (!base || !email || !password || !out) {
  console.error('usage: node console.mjs <console URL> <email> <password> <output folder> [prompt type]');
  process.exit(2);
}
const pages = [
  ['requests', '/requests'],
  ['playground', '/playground'],
  ['usage', '/usage'],
  ['settings', '/ai/settings'],
  ['models', '/ai/models'],
  ['templates', `/templates/${promptType}`],
  ['users', '/users'],
  ['api-keys', '/api-keys'],
  ['audit', '/audit'],
];
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  for (const [name, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
    const page = await browser.newPage({ viewport, colorScheme: 'light' });
    await page.goto(`${base}/signin`);
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('fluent-button[type=submit]');
    await page.waitForURL(`${base}/`);
    for (const [culture, suffix] of [['en-US', 'en'], ['fa-IR', 'fa']]) {
      await page.goto(`${base}/culture?culture=${culture}&returnUrl=%2F`);
      for (const [shot, path] of pages) {
        if (process.env.ONLY && !process.env.ONLY.split(',').includes(shot)) {
          continue;
        }
        if (name === 'phone' && !['requests', 'settings', 'playground'].includes(shot)) {
          continue;
        }
        await page.goto(`${base}${path}`);
        await page.waitForSelector('[data-interactive=true]');
        if (shot === 'playground') {
          await page.fill('textarea[data-field=chat-message]', suffix === 'fa' ? 'سلام! یک جملهٔ کوتاه دربارهٔ بهار بنویس.' : 'Hello! Write one short sentence about spring.');
          await page.click('#send-chat');
          await page.waitForSelector('[data-usage=true]');
          await page.fill('textarea[data-field=image-prompt]', suffix === 'fa' ? 'دوچرخهٔ قرمز کنار کانال در سپیده‌دم' : 'A red bicycle by a canal at dawn');
          await page.click('#generate-image');
          await page.waitForSelector('img[data-generated=true]');
          if (await page.locator('select[data-field=assistant] option').count() === 0) {
            await page.fill('input[data-field=assistant-name]', 'Trip planner');
            await page.fill('textarea[data-field=assistant-instructions]', "Plan short trips, in the traveller's language.");
            await page.click('#create-assistant');
            await page.waitForSelector('select[data-field=assistant] option', { state: 'attached' });
          }
          await page.fill('textarea[data-field=assistant-message]', suffix === 'fa' ? 'یک روز در اصفهان را برنامه‌ریزی کن.' : 'Plan a day in Isfahan.');
          await page.click('#send-assistant');
          await page.waitForSelector('[data-assistant-usage=true]');
        }
        if (shot === 'templates') {
          await page.click('#show-diff');
          await page.waitForSelector('.diff [data-op]');
        }
        await page.waitForTimeout(800);
        await page.screenshot({ path: `${out}/console-${shot}-${suffix}-${name}.png`, fullPage: name === 'desktop' });
      }
    }
    await page.close();
  }
  // The dark theme, once.
  const dark = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  await dark.goto(`${base}/signin`);
  await dark.fill('#email', email);
  await dark.fill('#password', password);
  await dark.click('fluent-button[type=submit]');
  await dark.waitForURL(`${base}/`);
  await dark.goto(`${base}/culture?culture=en-US&returnUrl=%2Fusage`);
  await dark.waitForSelector('[data-interactive=true]');
  await dark.click('[data-theme-choice=dark]');
  await dark.waitForTimeout(800);
  await dark.screenshot({ path: `${out}/console-usage-en-dark.png` });
} finally {
  await browser.close();
}
