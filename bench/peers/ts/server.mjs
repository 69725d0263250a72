// P3: the official TypeScript SDK 1.32.2, stateful streamable HTTP on express.
// Follows the SDK's own jsonResponseStreamableHttp / simpleStreamableHttp examples minus
// their per-request console.log, event store and session cap. JSON=1 answers requests
// with application/json, otherwise SSE. The `notify` tool sends
// notifications/tools/list_changed on the session's GET stream (scenario S5).
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod/v4';

const port = Number(process.env.PORT);
const json = process.env.JSON === '1';

function build() {
  const server = new McpServer({ name: 'bench-typescript-sdk', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echo the message', inputSchema: { message: z.string() } },
    async ({ message }) => ({ content: [{ type: 'text', text: `Echo: ${message}` }] }));
  server.registerTool('notify', { description: 'Send tools/list_changed on the GET stream' },
    async () => { server.sendToolListChanged(); return { content: [{ type: 'text', text: 'sent' }] }; });
  return server;
}

const transports = new Map();
const app = createMcpExpressApp();

function sessionError(res, status, code, message) {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

app.post('/mcp', async (req, res) => {
  const sessionId = req.headers['mcp-session-id'];
  const known = sessionId ? transports.get(sessionId) : undefined;
  if (known) return known.handleRequest(req, res, req.body);
  if (sessionId) return sessionError(res, 404, -32001, 'Session not found');
  if (!isInitializeRequest(req.body)) return sessionError(res, 400, -32000, 'Bad Request: No valid session ID provided');
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse: json,
    onsessioninitialized: (id) => transports.set(id, transport),
  });
  transport.onclose = () => { if (transport.sessionId) transports.delete(transport.sessionId); };
  await build().connect(transport);
  await transport.handleRequest(req, res, req.body);
});

async function onSession(req, res) {
  const transport = transports.get(req.headers['mcp-session-id']);
  if (!transport) return sessionError(res, 404, -32001, 'Session not found');
  await transport.handleRequest(req, res);
}
app.get('/mcp', onSession);
app.delete('/mcp', onSession);

app.listen(port, '127.0.0.1');
