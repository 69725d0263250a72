// The TypeScript client 2.x (@modelcontextprotocol/client, a 2026-07-28 client) against the server
// under test: `node client.mjs URL MODE` (MODE: "2026-07-28" pins the modern era, "auto" probes).
// It connects, lists tools, calls echo, completes a sampling round trip (input_required answered by
// its sampling handler, then retried), and holds a subscriptions/listen stream until a tools list
// change arrives (triggered by a tool call on a second connection). One JSON line per step on
// stdout; a non-zero exit on failure.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const [url, mode] = process.argv.slice(2);
const TIMEOUT_MS = 30000;
const report = (step, data = {}) => console.log(JSON.stringify({ step, ...data }));
const textOf = (result) => result.content.filter((block) => block.type === 'text').map((block) => block.text).join('\n');

function connect(capabilities) {
  const versionNegotiation = { mode: mode === 'auto' ? 'auto' : { pin: mode } };
  const client = new Client({ name: 'ts-client-2', version: '2.4.0' }, { capabilities, versionNegotiation });
  return client;
}

async function main() {
  const client = connect({ sampling: {} });
  client.setRequestHandler('sampling/createMessage', async () => ({
    model: 'echo-model',
    role: 'assistant',
    content: { type: 'text', text: 'sampled by the typescript 2.x client' },
  }));
  let changed;
  const listChanged = new Promise((resolve) => (changed = resolve));
  client.setNotificationHandler('notifications/tools/list_changed', () => changed());
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  report('connected', { version: client.getNegotiatedProtocolVersion(), era: client.getProtocolEra() });
  const tools = await client.listTools();
  report('tools', { names: tools.tools.map((tool) => tool.name) });
  report('echo', { text: textOf(await client.callTool({ name: 'echo', arguments: { message: 'hello from typescript 2.x' } })) });
  const sampled = await client.callTool({ name: 'requestSampling', arguments: { prompt: 'Say something' } });
  report('sampling', { text: textOf(sampled), isError: Boolean(sampled.isError) });

  const subscription = await client.listen({ toolsListChanged: true });
  report('listening', { honored: subscription.honoredFilter });
  const other = connect({});
  await other.connect(new StreamableHTTPClientTransport(new URL(url)));
  await other.callTool({ name: 'triggerListChanged', arguments: { kind: 'tools' } });
  await other.close();
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no list change arrived')), TIMEOUT_MS)));
  await Promise.race([listChanged, timeout]);
  clearTimeout(timer);
  report('event', { type: 'notifications/tools/list_changed' });
  await subscription.close();
  await client.close();
}

main().then(
  () => process.exit(0),
  (error) => {
    report('failed', { error: String(error && error.stack ? error.stack : error) });
    process.exit(1);
  },
);
