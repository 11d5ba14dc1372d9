// The official OpenAI SDK for Node against AiPrompts' background responses: one made in the background and polled to its
// end, its stream resumed after an event, and one cancelled while it runs. Prints one JSON line; the C# test asserts on it.
//   node background.mjs <api base URL> <API key with the prompts scope>
import OpenAI from 'openai';

const [base, apiKey] = process.argv.slice(2);
const openai = new OpenAI({ baseURL: new URL('openai/v1', base).toString(), apiKey, maxRetries: 0, timeout: 60_000 });
const seen = {};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function poll(id, done) {
  for (let i = 0; i < 1200; i++) {
    const now = await openai.responses.retrieve(id);
    if (done(now)) return now;
    await sleep(50);
  }
  throw new Error(`response ${id} never got there`);
}

const queued = await openai.responses.create({ model: 'local/local-text', input: 'Plan the garden screens', background: true });
seen.queued = queued.status;
const polled = await poll(queued.id, (r) => !['queued', 'in_progress'].includes(r.status));
seen.polled = polled.status;
seen.text = polled.output_text;

let resumedText = '';
let resumedFrom = null;
let resumedLast = null;
for await (const event of await openai.responses.retrieve(queued.id, { stream: true, starting_after: 2 })) {
  resumedFrom ??= event.sequence_number;
  resumedLast = event.type;
  if (event.type === 'response.output_text.delta') resumedText += event.delta;
}
seen.resumedFrom = resumedFrom;
seen.resumedLast = resumedLast;
seen.resumedText = resumedText;

const running = await openai.responses.create({ model: 'local/local-text', input: 'Write the long garden report', background: true });
await poll(running.id, (r) => r.status === 'in_progress');
seen.cancelled = (await openai.responses.cancel(running.id)).status;

console.log(JSON.stringify(seen));
