// The official OpenAI SDK for Node (the current major, which keeps beta.threads) against AiPrompts' Assistants surface, unchanged but
// for its base URL and key. Prints one JSON line of what it saw; the C# test asserts on it.
//   node assistants.mjs <api base URL> <admin-scope API key> <another user's API key>
import OpenAI from 'openai';

const [base, adminKey, strangerKey] = process.argv.slice(2);
const options = (apiKey) => ({ baseURL: new URL('api/v1', base).toString(), apiKey, maxRetries: 0, timeout: 60_000 });
const openai = new OpenAI(options(adminKey));
const stranger = new OpenAI(options(strangerKey));
const seen = {};

const assistant = await openai.beta.assistants.create({
  model: 'local-text',
  name: 'Signage analyst',
  instructions: 'You analyse digital signage data.',
  metadata: { team: 'retail' },
});
seen.assistant = { id: assistant.id, object: assistant.object, model: assistant.model, metadata: assistant.metadata };
seen.renamed = (await openai.beta.assistants.update(assistant.id, { name: 'Signage analyst v2' })).name;
seen.retrieved = (await openai.beta.assistants.retrieve(assistant.id)).name;

const thread = await openai.beta.threads.create({
  messages: [{ role: 'user', content: 'Which screen played the most?' }],
  metadata: { panel: 'lobby' },
});
seen.thread = { id: thread.id, object: thread.object, metadata: thread.metadata };
const added = await openai.beta.threads.messages.create(thread.id, { role: 'user', content: [{ type: 'text', text: 'Data: {"screen": 3, "plays": 41}' }] });
seen.added = { object: added.object, role: added.role, text: added.content[0].text.value };

const run = await openai.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id, additional_instructions: 'Be brief.' });
seen.run = { object: run.object, status: run.status, assistant: run.assistant_id === assistant.id, tokens: run.usage?.total_tokens ?? 0 };

const texts = [];
for await (const message of openai.beta.threads.messages.list(thread.id, { order: 'asc', limit: 1 })) {
  texts.push(`${message.role}: ${message.content[0].text.value}`);
}
seen.messages = texts;
seen.runs = (await openai.beta.threads.runs.list(thread.id)).data.map((r) => r.status);

await openai.beta.threads.messages.create(thread.id, { role: 'user', content: 'Now stream it, please.' });
const stream = openai.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
const events = [];
let deltas = '';
stream.on('event', (event) => events.push(event.event));
stream.on('textDelta', (delta) => { deltas += delta.value; });
const streamed = await stream.finalRun();
const [streamedMessage] = await stream.finalMessages();
seen.stream = { events: [...new Set(events)], status: streamed.status, deltas, message: streamedMessage?.content[0]?.text.value ?? null };

// A function tool round trip: the run requires action, the caller runs the tool, the run goes on.
const tooled = await openai.beta.assistants.create({
  model: 'local-text',
  name: 'Plays counter',
  tools: [{ type: 'function', function: { name: 'get_plays', description: 'Plays of a screen today.', parameters: { type: 'object', properties: { screen: { type: 'integer' } }, required: ['screen'] } } }],
});
const toolThread = await openai.beta.threads.create({ messages: [{ role: 'user', content: 'Use get_plays for screen 3.' }] });
const waiting = await openai.beta.threads.runs.createAndPoll(toolThread.id, { assistant_id: tooled.id });
const call = waiting.required_action?.submit_tool_outputs.tool_calls[0];
let busy = null;
try {
  await openai.beta.threads.messages.create(toolThread.id, { role: 'user', content: 'Are you there?' });
} catch (error) {
  busy = error.code;
}
const answered = await openai.beta.threads.runs.submitToolOutputsAndPoll(waiting.id, { thread_id: toolThread.id, tool_outputs: [{ tool_call_id: call.id, output: '{"plays": 41}' }] });
const toolAnswer = (await openai.beta.threads.messages.list(toolThread.id)).data[0].content[0].text.value;
const steps = (await openai.beta.threads.runs.steps.list(answered.id, { thread_id: toolThread.id, order: 'asc' })).data;
const lastStep = await openai.beta.threads.runs.steps.retrieve(steps[steps.length - 1].id, { thread_id: toolThread.id, run_id: answered.id });
seen.tools = {
  waiting: waiting.status, expires: waiting.expires_at > 0, tool: call?.function.name, arguments: JSON.parse(call?.function.arguments ?? '{}'),
  busy, status: answered.status, answer: toolAnswer,
  steps: steps.map((s) => ({ type: s.type, status: s.status, object: s.object, output: s.step_details.tool_calls?.[0]?.function.output ?? null, message: s.step_details.message_creation?.message_id ?? null })),
  lastStep: lastStep.id === steps[steps.length - 1].id,
};

// One call for a thread and its run; a run with additional messages; a message's metadata changed, then deleted.
const oneCall = await openai.beta.threads.createAndRunPoll({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'Busiest hour?' }] } });
const extra = await openai.beta.threads.runs.createAndPoll(oneCall.thread_id, { assistant_id: assistant.id, additional_messages: [{ role: 'user', content: 'And the quietest?' }] });
const oneCallMessages = (await openai.beta.threads.messages.list(oneCall.thread_id, { order: 'asc' })).data;
const tagged = await openai.beta.threads.messages.update(oneCallMessages[0].id, { thread_id: oneCall.thread_id, metadata: { reviewed: 'yes' } });
const removed = await openai.beta.threads.messages.delete(oneCallMessages[0].id, { thread_id: oneCall.thread_id });
seen.oneCall = {
  status: oneCall.status, extra: extra.status,
  roles: oneCallMessages.map((m) => m.role), second: oneCallMessages[2]?.content[0]?.text.value,
  tagged: tagged.metadata.reviewed, removed: removed.deleted,
  left: (await openai.beta.threads.messages.list(oneCall.thread_id)).data.length,
};

try {
  await stranger.beta.threads.retrieve(thread.id);
  seen.stranger = 'visible';
} catch (error) {
  seen.stranger = { name: error.constructor.name, status: error.status, code: error.code };
}
try {
  await openai.beta.threads.messages.list(thread.id, { limit: 500 });
} catch (error) {
  seen.invalid = { name: error.constructor.name, status: error.status, code: error.code, param: error.param };
}

seen.deleted = (await openai.beta.threads.delete(thread.id)).deleted;
seen.assistantDeleted = (await openai.beta.assistants.delete(assistant.id)).deleted;
console.log(JSON.stringify(seen));
