// Drive the server with the official MCP TypeScript SDK; print one JSON line of what happened.
// Usage: node client.mjs URL [MESSAGE]
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const TIMEOUT_MS = 60_000;
const [url, message = "hello from the TypeScript SDK"] = process.argv.slice(2);
if (!url) {
  console.error("usage: node client.mjs URL [MESSAGE]");
  process.exit(2);
}
const watchdog = setTimeout(() => {
  console.error(`client.mjs: no result within ${TIMEOUT_MS} ms`);
  process.exit(3);
}, TIMEOUT_MS);

const texts = (result) => result.content.filter((block) => block.type === "text").map((block) => block.text);

const client = new Client({ name: "e2e-typescript-client", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(url));
await client.connect(transport);
const sessionId = transport.sessionId;
const tools = await client.listTools();
const echo = await client.callTool({ name: "echo", arguments: { message } });
const replay = await client.callTool({ name: "replayLastEcho", arguments: {} });
const protocolVersion = transport.protocolVersion ?? null;
await transport.terminateSession();
await client.close();
clearTimeout(watchdog);

console.log(
  JSON.stringify({
    sdk: "typescript",
    protocolVersion,
    serverName: client.getServerVersion()?.name,
    sessionId,
    tools: tools.tools.map((tool) => tool.name),
    echo: texts(echo),
    echoIsError: Boolean(echo.isError),
    replay: texts(replay),
    replayIsError: Boolean(replay.isError),
  }),
);
