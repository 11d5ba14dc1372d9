// The official OpenAI SDK for Node (the current major) against AiPrompts' OpenAI-compatible surface, unchanged but for
// its base URL and key. Prints one JSON line of what it saw; the C# test asserts on it.
//   node gateway.mjs <api base URL> <API key with the prompts scope> <a prompt type whose active template uses {{name}}>
import OpenAI from 'openai';

const [base, apiKey, promptType] = process.argv.slice(2);
const openai = new OpenAI({ baseURL: new URL('openai/v1', base).toString(), apiKey, maxRetries: 0, timeout: 60_000 });
const seen = {};

seen.models = (await openai.models.list()).data.map((m) => m.id);

const chat = await openai.chat.completions.create({ model: 'local/local-text', messages: [{ role: 'user', content: 'Summarise the signage report' }] });
seen.chat = { model: chat.model, text: chat.choices[0].message.content, finish: chat.choices[0].finish_reason, tokens: chat.usage.total_tokens };

let streamed = '';
let streamUsage = null;
for await (const chunk of await openai.chat.completions.create({
  model: 'local/local-text', messages: [{ role: 'user', content: 'Summarise the signage report' }], stream: true, stream_options: { include_usage: true },
})) {
  streamed += chunk.choices[0]?.delta?.content ?? '';
  streamUsage = chunk.usage ?? streamUsage;
}
seen.chatStream = { text: streamed, tokens: streamUsage?.total_tokens ?? null };

const tools = [{
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
}];
const messages = [{ role: 'user', content: 'What is the weather in Lisbon?' }];
const called = await openai.chat.completions.create({ model: 'local/local-text', messages, tools });
const call = called.choices[0].message.tool_calls[0];
messages.push(called.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"sky":"clear"}' });
const answered = await openai.chat.completions.create({ model: 'local/local-text', messages, tools });
seen.tools = { name: call.function.name, arguments: JSON.parse(call.function.arguments), answer: answered.choices[0].message.content };

const structured = await openai.chat.completions.create({
  model: 'local/local-text',
  messages: [{ role: 'user', content: 'File a ticket: screen 4 is dark' }],
  response_format: { type: 'json_schema', json_schema: { name: 'ticket', strict: true, schema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'], additionalProperties: false } } },
});
seen.structured = JSON.parse(structured.choices[0].message.content);

const first = await openai.responses.create({ model: 'local/local-text', input: 'Name three lobby screens', instructions: 'Be brief.' });
const second = await openai.responses.create({ model: 'local/local-text', input: 'And two more', previous_response_id: first.id });
seen.responses = { first: first.output_text, status: first.status, previous: second.previous_response_id, retrieved: (await openai.responses.retrieve(second.id)).output_text === second.output_text };
const events = [];
let deltas = '';
for await (const event of await openai.responses.create({ model: 'local/local-text', input: 'Describe the lobby', stream: true })) {
  events.push(event.type);
  if (event.type === 'response.output_text.delta') deltas += event.delta;
}
seen.responseStream = { first: events[0], last: events.at(-1), text: deltas };

const templated = await openai.responses.create({ model: 'local/local-text', prompt: { id: promptType, variables: { name: 'Ana' } } });
seen.prompt = { version: templated.prompt?.version ?? null, text: templated.output_text };

const conversation = await openai.conversations.create({ items: [{ type: 'message', role: 'user', content: 'The lobby screen is in Lisbon.' }], metadata: { team: 'signage' } });
await openai.responses.create({ model: 'local/local-text', input: 'Where is the screen?', conversation: conversation.id });
const items = [];
for await (const item of openai.conversations.items.list(conversation.id, { order: 'asc' })) items.push(item.type);
seen.conversation = { id: conversation.id, items };
seen.conversationDeleted = (await openai.conversations.delete(conversation.id)).deleted;

const embeddings = await openai.embeddings.create({ model: 'local/local-embedding', input: ['lobby screen', 'quarterly revenue'] });
seen.embeddings = { count: embeddings.data.length, dimensions: embeddings.data[0].embedding.length };

try {
  await openai.chat.completions.create({ model: 'local/no-such-model', messages: [{ role: 'user', content: 'hi' }] });
} catch (e) {
  seen.error = { class: e.constructor.name, status: e.status, code: e.code };
}
console.log(JSON.stringify(seen));
