// Takes the studio's pictures from a running AppHost (scripts/run): a conversation message carried from PROCESSING
// to DONE with its generated image (the local model), and that message's one trace in the dashboard
// (conversation message → refine → image → media). Debian's chromium, driven by playwright-core.
//   node studio.mjs <dashboard login URL> <api URL> <email> <password> <output folder>
import { chromium } from 'playwright-core';

const [loginUrl, apiUrl, email, password, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node studio.mjs <dashboard login URL> <api URL> <email> <password> <output folder>');
  process.exit(2);
}
const dashboard = new URL(loginUrl).origin;

async function api(path, token, body) {
  const response = await fetch(`${apiUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`${path}: ${response.status} ${text}`);
  }
  return JSON.parse(text);
}

const { data: { accessToken } } = await api('/api/v1/auth/token', null, { email, password });
const conversation = await api('/v1/conversations', accessToken, { metadata: { app: 'photofun' } });
const posted = await api(`/v1/conversations/${conversation.id}/messages`, accessToken, {
  content: 'Generate an image of a red lantern festival over Hoi An at night',
  style: 'watercolor', lang: 'vi', topic: 'travel', size: '768x512',
});
let message = posted;
for (let i = 0; i < 300 && message.status === 'PROCESSING'; i++) {
  await new Promise(resolve => setTimeout(resolve, 200));
  message = await api(`/v1/conversations/${conversation.id}/messages/${posted.id}`, accessToken);
}
if (message.status !== 'DONE') {
  throw new Error(`the message ended ${message.status}: ${JSON.stringify(message.error)}`);
}

const escape = text => String(text ?? '').replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const rows = ['intent', 'refined_prompt', 'status', 'request_id', 'created_at']
  .map(name => `<tr><th>${name}</th><td>${escape(message[name])}</td></tr>`).join('');
const html = `<!doctype html><html><head><meta charset="utf-8"><style>
  body { font: 15px system-ui, sans-serif; margin: 24px; background: #f4f5f7; color: #1f2328; }
  .bubble { background: #fff; border-radius: 12px; padding: 16px 20px; max-width: 820px; box-shadow: 0 1px 3px #0002; }
  h1 { font-size: 16px; margin: 0 0 10px; word-break: break-all; } code { background: #eef; padding: 1px 4px; border-radius: 4px; }
  table { border-collapse: collapse; margin: 10px 0; } th { text-align: left; padding: 3px 14px 3px 0; color: #57606a; font-weight: 600; }
  td { padding: 3px 0; } img { display: block; margin-top: 8px; border-radius: 8px; max-width: 768px; }
</style></head><body><div class="bubble">
  <h1>GET /v1/conversations/${escape(conversation.id)}/messages/${escape(message.id)}</h1>
  <div>user: <code>${escape(message.content)}</code></div>
  <table>${rows}</table>
  <div><code>image_url</code> (a signed link, shown in an &lt;img src&gt;):</div>
  <img src="${escape(message.image_url)}" alt="the generated image">
</div></body></html>`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 860 }, colorScheme: 'light' });
  await page.setContent(html);
  await page.locator('img').evaluate(img => img.complete ? null : new Promise(resolve => { img.onload = resolve; img.onerror = resolve; }));
  await page.screenshot({ path: `${out}/studio-conversation.png`, fullPage: true });

  const dash = await browser.newPage({ viewport: { width: 1600, height: 1480 }, colorScheme: 'light' }); // the trace's every span
  await dash.goto(loginUrl);
  await dash.waitForURL(`${dashboard}/**`);
  await dash.goto(`${dashboard}/traces`);
  const row = dash.getByText('POST /v1/conversations/{conversation_id}/messages', { exact: false }).first();
  await row.waitFor({ timeout: 60_000 });
  await row.click();
  await dash.getByText('worker', { exact: false }).first().waitFor({ timeout: 30_000 });
  for (const button of await dash.locator('fluent-button[aria-label="Dismiss notification"]').all()) {
    if (await button.isVisible()) {
      await button.click();
    }
  }
  await dash.waitForTimeout(2000);
  await dash.screenshot({ path: `${out}/dashboard-studio-trace.png` });
} finally {
  await browser.close();
}
