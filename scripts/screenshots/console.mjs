// Takes the admin console's pictures from a running AppHost (scripts/run): each page in English and in Persian
// (right to left), at desktop and phone width. Debian's chromium, driven by playwright-core.
//   node console.mjs <console URL> <email> <password> <output folder>
import { chromium } from 'playwright-core';

const [base, email, password, out] = process.argv.slice(2);
if (!base || !email || !password || !out) {
  console.error('usage: node console.mjs <console URL> <email> <password> <output folder>');
  process.exit(2);
}
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
      await page.goto(`${base}/culture?culture=${culture}&returnUrl=%2Frequests`);
      await page.waitForSelector('table, .empty');
      await page.waitForTimeout(1500);
      await page.screenshot({ path: `${out}/console-requests-${suffix}-${name}.png`, fullPage: true });
      await page.goto(`${base}/ai/settings`);
      await page.waitForSelector('[data-interactive=true]');
      await page.waitForTimeout(1000);
      await page.screenshot({ path: `${out}/console-settings-${suffix}-${name}.png`, fullPage: name === 'phone' ? false : true });
    }
    await page.close();
  }
} finally {
  await browser.close();
}
