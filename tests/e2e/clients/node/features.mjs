// The official TypeScript SDK against the server's diagnostic tools; print one JSON line.
// Usage: node features.mjs SCENARIO URL
//   sampling | elicitation | progress | resume | resume-raw | notifications   URL = the /mcp endpoint
//   legacy                                                                    URL = the /sse endpoint
// Every HTTP exchange goes through a recording fetch: the JSON-RPC messages the client sent
// and received, as raw JSON off the wire, are reported under "wire" (with each request's
// method, Last-Event-ID and answer) so that the test can validate them against the schema.
import { writeSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";

const TIMEOUT_MS = 60_000;
// Each step (connect, one call, one wait) is bounded; E2E_STEP_SECONDS shortens it.
const STEP_MS = Number(process.env.E2E_STEP_SECONDS || 15) * 1000;
// What this client answers to sampling/createMessage and elicitation/create.
const SAMPLING_ANSWER = "The fixed answer of the TypeScript e2e client";
const SAMPLING_MODEL = "e2e-fixed-model";
const ELICITATION_CONTENT = { name: "TypeScript E2E", confirm: true };

const [scenario, url] = process.argv.slice(2);
if (!scenario || !url) {
  console.error("usage: node features.mjs SCENARIO URL");
  process.exit(2);
}
const watchdog = setTimeout(() => {
  console.error(`features.mjs: scenario ${scenario} did not finish within ${TIMEOUT_MS} ms`);
  process.exit(3);
}, TIMEOUT_MS);

const started = performance.now();
const now = () => Math.round((performance.now() - started) * 10) / 10;
// What the SDK handed to this script, in order: handlers, callbacks, results.
const events = [];
const note = (kind, value) => events.push({ kind, at: now(), ...value });

// --- The wire, recorded ---------------------------------------------------------------------

const wire = { sent: [], received: [], exchanges: [], namedEvents: [] };
const pending = new Set();
// response -> its exchange, and the reading of its recorded copy.
const exchangeOf = new WeakMap();
const readingOf = new WeakMap();

function recordJson(text, into, via) {
  if (!text || !text.trim()) return;
  try {
    const parsed = JSON.parse(text);
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) into.push({ via, at: now(), message });
  } catch (error) {
    into.push({ via, at: now(), unparsed: text, error: String(error) });
  }
}

// A minimal SSE reader for the copy of a response body: "data" lines become messages.
async function readSse(body, exchange) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data = [];
  let id = null;
  let event = null;
  const flush = () => {
    const text = data.join("\n");
    if (event && event !== "message") {
      // The legacy transport's "endpoint" event: not a JSON-RPC message.
      wire.namedEvents.push({ via: `${exchange.method} ${exchange.n}`, event, data: text });
    } else if (text.trim()) {
      exchange.messages += 1;
      recordJson(text, wire.received, `${exchange.method} ${exchange.n}${id ? ` id=${id}` : ""}`);
    }
    data = [];
    id = null;
    event = null;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let newline;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(buffer[newline] === "\r" && buffer[newline + 1] === "\n" ? newline + 2 : newline + 1);
        if (line === "") flush();
        else if (line.startsWith(":")) continue;
        else {
          const colon = line.indexOf(":");
          const name = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? "" : line.slice(colon + 1);
          if (value.startsWith(" ")) value = value.slice(1);
          if (name === "data") data.push(value);
          else if (name === "event") event = value;
          else if (name === "id") {
            id = value;
            exchange.lastId = value;
          } else if (name === "retry") exchange.retry = Number(value);
        }
      }
    }
    flush();
    exchange.ended = "end";
  } catch (error) {
    exchange.ended = `error: ${error?.name ?? error}`;
  }
}

async function recordingFetch(input, init = {}) {
  const headers = new Headers(init.headers);
  const exchange = {
    n: wire.exchanges.length,
    method: init.method ?? "GET",
    path: new URL(input instanceof Request ? input.url : String(input)).pathname,
    lastEventId: headers.get("last-event-id"),
    at: now(),
    messages: 0,
  };
  wire.exchanges.push(exchange);
  if (typeof init.body === "string") recordJson(init.body, wire.sent, `${exchange.method} ${exchange.n}`);
  const response = await fetch(input, init);
  exchangeOf.set(response, exchange);
  exchange.status = response.status;
  exchange.contentType = response.headers.get("content-type");
  if (response.body && response.status !== 202) {
    const copy = response.clone();
    const type = (exchange.contentType ?? "").split(";")[0].trim().toLowerCase();
    const reading =
      type === "text/event-stream"
        ? readSse(copy.body, exchange)
        : copy.text().then((text) => recordJson(text, wire.received, `${exchange.method} ${exchange.n}`));
    const done = reading.catch(() => {}).finally(() => pending.delete(done));
    pending.add(done);
    readingOf.set(response, done);
  }
  return response;
}

// --- Helpers --------------------------------------------------------------------------------

const texts = (result) => (result.content ?? []).filter((block) => block.type === "text").map((block) => block.text);

function within(ms, promise, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

async function until(predicate, ms, what) {
  const deadline = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function newClient() {
  const client = new Client(
    { name: "e2e-typescript-features", version: "1.0.0" },
    { capabilities: { sampling: {}, elicitation: {} } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    note("sampling", { params: request.params });
    return {
      role: "assistant",
      content: { type: "text", text: SAMPLING_ANSWER },
      model: SAMPLING_MODEL,
      stopReason: "endTurn",
    };
  });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    note("elicitation", { params: request.params });
    return { action: "accept", content: ELICITATION_CONTENT };
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    note("log", { params: notification.params });
  });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    note("tools_list_changed", {});
  });
  return client;
}

async function callTool(client, name, args, options = {}) {
  const result = await within(
    STEP_MS,
    client.callTool({ name, arguments: args }, undefined, { timeout: STEP_MS, ...options }),
    `tools/call ${name}`,
  );
  note("result", { tool: name, texts: texts(result), isError: Boolean(result.isError) });
  return { texts: texts(result), isError: Boolean(result.isError) };
}

// --- Scenarios ------------------------------------------------------------------------------

const scenarios = {
  async sampling(client) {
    const prompt = "What is the capital of the e2e test?";
    const call = await callTool(client, "requestSampling", { prompt });
    return { prompt, answer: SAMPLING_ANSWER, model: SAMPLING_MODEL, call };
  },

  async elicitation(client) {
    const message = "Who is running the TypeScript e2e test?";
    return { message, content: ELICITATION_CONTENT, call: await callTool(client, "requestElicitation", { message }) };
  },

  async progress(client) {
    const message = "slow hello from the TypeScript SDK";
    const call = await callTool(
      client,
      "slowEcho",
      { message, seconds: 2 },
      { onprogress: (progress) => note("progress", { progress }) },
    );
    return { message, call };
  },

  async resume(client, transport) {
    // SDK 1.32 resumes by itself: a POST stream that ends after an event id (the priming
    // event) and without the response is reopened with GET and Last-Event-ID after the
    // server's retry interval. Without that, resume by hand with raw fetch.
    try {
      return { mode: "sdk", call: await callTool(client, "dropStream", {}) };
    } catch (error) {
      note("sdk_resume_failed", { error: String(error) });
      return { mode: "raw-fetch", sdkError: String(error), call: await resumeByHand(transport) };
    }
  },

  // The same resumption, done by hand on the SDK's session (what the fallback above does).
  async "resume-raw"(client, transport) {
    return { mode: "raw-fetch", call: await resumeByHand(transport) };
  },

  async notifications(client) {
    const sent = await callTool(client, "sendNotifications", { count: 3, target: "session" });
    const logs = () => events.filter((event) => event.kind === "log").length;
    await until(() => logs() >= 3, STEP_MS, "three notifications/message on the GET stream");
    const before = await within(STEP_MS, client.listTools(), "tools/list");
    const triggered = await callTool(client, "triggerListChanged", {});
    await until(
      () => events.some((event) => event.kind === "tools_list_changed"),
      STEP_MS,
      "notifications/tools/list_changed",
    );
    const after = await within(STEP_MS, client.listTools(), "tools/list");
    // Anything that would arrive late (a duplicate, say) has a moment to show up.
    await new Promise((resolve) => setTimeout(resolve, 500));
    return {
      sent,
      triggered,
      toolsBefore: before.tools.map((tool) => tool.name),
      toolsAfter: after.tools.map((tool) => tool.name),
    };
  },
};

// The resumption of dropStream without the SDK: POST, read the SSE to its end, then GET with
// Last-Event-ID and read the response from there.
async function resumeByHand(transport) {
  const headers = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-session-id": transport.sessionId,
    "mcp-protocol-version": transport.protocolVersion,
  };
  const id = "raw-resume-1";
  const params = { name: "dropStream", arguments: {} };
  const body = JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params });
  const post = await within(STEP_MS, recordingFetch(url, { method: "POST", headers, body }), "raw POST");
  const postExchange = exchangeOf.get(post);
  await within(STEP_MS, post.text(), "the raw POST stream's end");
  await within(STEP_MS, readingOf.get(post), "reading the raw POST stream");
  if (!postExchange.lastId) throw new Error("the dropped POST stream carried no event id to resume from");
  const get = await within(
    STEP_MS,
    recordingFetch(url, {
      method: "GET",
      headers: { ...headers, accept: "text/event-stream", "last-event-id": postExchange.lastId },
    }),
    "raw GET",
  );
  await within(STEP_MS, get.text(), "the resumed stream's end");
  await within(STEP_MS, readingOf.get(get), "reading the resumed stream");
  const response = wire.received.find((entry) => entry.message?.id === id);
  if (!response) throw new Error("the resumed stream did not carry the response");
  return { texts: texts(response.message.result ?? {}), isError: Boolean(response.message.result?.isError) };
}

async function legacy(client) {
  const message = "legacy hello from the TypeScript SDK";
  const tools = await within(STEP_MS, client.listTools(), "tools/list");
  const echo = await callTool(client, "echo", { message });
  const replay = await callTool(client, "replayLastEcho", {});
  return { message, tools: tools.tools.map((tool) => tool.name), echo, replay };
}

// --- Main -----------------------------------------------------------------------------------

const outcome = { sdk: "typescript", scenario };
let client;
let transport;
let closing = false;
try {
  if (scenario !== "legacy" && !(scenario in scenarios)) throw new Error(`unknown scenario ${scenario}`);
  client = newClient();
  transport =
    scenario === "legacy"
      ? new SSEClientTransport(new URL(url), { fetch: recordingFetch })
      : new StreamableHTTPClientTransport(new URL(url), { fetch: recordingFetch });
  // Errors after the scenario are the transport's own streams being aborted by close().
  transport.onerror = (error) => closing || note("transport_error", { error: String(error) });
  await within(STEP_MS, client.connect(transport), "connect");
  // The legacy transport names its session only in the endpoint URL it was given.
  const endpoint = wire.namedEvents.find((named) => named.event === "endpoint")?.data;
  outcome.sessionId = transport.sessionId ?? (endpoint ? new URL(endpoint, url).searchParams.get("sessionId") : null);
  outcome.endpoint = endpoint ?? null;
  outcome.protocolVersion =
    wire.received.find((entry) => entry.message?.result?.protocolVersion)?.message.result.protocolVersion ?? null;
  outcome.serverName = client.getServerVersion()?.name ?? null;
  Object.assign(outcome, scenario === "legacy" ? await legacy(client) : await scenarios[scenario](client, transport));
  outcome.ok = true;
} catch (error) {
  outcome.ok = false;
  outcome.error = String(error?.stack ?? error);
}
closing = true;
if (transport?.terminateSession) {
  try {
    await within(5_000, transport.terminateSession(), "DELETE");
  } catch (error) {
    note("terminate_failed", { error: String(error) });
  }
}
try {
  await within(5_000, client?.close() ?? Promise.resolve(), "close");
} catch (error) {
  note("close_failed", { error: String(error) });
}
await Promise.race([Promise.allSettled([...pending]), new Promise((resolve) => setTimeout(resolve, 1_000))]);
clearTimeout(watchdog);
outcome.events = events;
outcome.wire = wire;
// Written synchronously: console.log to a pipe is asynchronous, and process.exit would cut an
// answer past the pipe's 64 KiB buffer short.
writeSync(1, JSON.stringify(outcome) + "\n");
process.exit(outcome.ok ? 0 : 1);
