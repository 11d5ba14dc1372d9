// The Requests page's first render and filter times in Debian's chromium (see bench/console).
//   node bench/console.mjs <console URL> <email> <password> <runs>
import { chromium } from '../scripts/screenshots/node_modules/playwright-core/index.mjs';

const [base, email, password, runs = '15'] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
await page.goto(`${base}/signin`);
await page.fill('#email', email);
await page.fill('#password', password);
await page.click('fluent-button[type=submit]');
await page.waitForURL(`${base}/`);

const rows = 'table[aria-label] tbody tr, fluent-data-grid-row[row-type=default], tr[data-status], [role=row]:has(a[href^="requests/"])';
const firstRender = [], filter = [];
for (let i = 0; i < Number(runs); i++) {
  let started = Date.now();
  await page.goto(`${base}/requests`);
  await page.waitForSelector('.toolbar[data-interactive=true]');
  await page.waitForFunction(() => document.querySelectorAll('a[href^="requests/"]').length >= 50);
  firstRender.push(Date.now() - started);

  started = Date.now();
  await page.selectOption('select[data-field=status]', 'failed');
  await page.waitForFunction(() => {
    const badges = [...document.querySelectorAll('[data-status]')].filter(b => b.closest('fluent-data-grid, table'));
    return badges.length >= 50 && badges.every(b => b.dataset.status === 'failed');
  });
  filter.push(Date.now() - started);
}
const summary = xs => { const s = [...xs].sort((a, b) => a - b); return `p50 ${s[Math.floor((s.length - 1) / 2)]} ms, max ${s[s.length - 1]} ms`; };
console.log(`page, first render (navigation until 50 rows shown and live): ${summary(firstRender)}`);
console.log(`page, filter by status (chosen until only failed rows shown): ${summary(filter)}`);
const memory = await page.evaluate(() => performance.memory ? Math.round(performance.memory.usedJSHeapSize / 1048576) : null);
console.log(`page, JS heap after the runs: ${memory} MB; DOM nodes: ${await page.evaluate(() => document.getElementsByTagName('*').length)}`);
await browser.close();
