// The official TypeScript SDK's OAuth support against the embedded authorization server.
// Usage: node oauth_client.mjs SCENARIO_JSON (the keys of tests/e2e/clients/python/oauth_client.py).
// The SDK does discovery, registration, PKCE, the token exchange, refresh and step-up; this script
// supplies what an application supplies: an in-memory OAuthClientProvider whose
// redirectToAuthorization follows the authorization URL over HTTP (automatic consent answers with a
// redirect to our callback, read from the Location header), checks the state as a callback page
// must, and hands the code to transport.finishAuth. Prints one JSON line of what the client saw.
import { writeSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { randomBytes } from "node:crypto";

const TIMEOUT_MS = 90_000;
const CALLBACK = "http://127.0.0.1:9/callback";
const MAX_AUTHORIZATIONS = 4;
const scenario = JSON.parse(process.argv[2] ?? "{}");
const outcome = { sdk: "typescript", results: [], error: null, issued: [], authorizations: [] };
const watchdog = setTimeout(() => {
  outcome.error = [{ type: "Timeout", message: `no result within ${TIMEOUT_MS} ms` }];
  writeSync(1, JSON.stringify(outcome) + "\n");
  process.exit(3);
}, TIMEOUT_MS);

class MemoryProvider {
  constructor() {
    this._client = undefined;
    this._tokens = undefined;
    this._verifier = undefined;
    this._state = undefined;
    this.pendingCode = undefined;
    if (scenario.client_metadata_url) this.clientMetadataUrl = scenario.client_metadata_url;
  }
  get redirectUrl() {
    return CALLBACK;
  }
  get clientMetadata() {
    return {
      client_name: "e2e typescript oauth client",
      redirect_uris: [CALLBACK],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  state() {
    this._state = randomBytes(16).toString("hex");
    return this._state;
  }
  clientInformation() {
    return this._client;
  }
  saveClientInformation(info) {
    this._client = info;
  }
  tokens() {
    return this._tokens;
  }
  saveTokens(tokens) {
    this._tokens = tokens;
    outcome.issued.push(tokens);
  }
  saveCodeVerifier(verifier) {
    this._verifier = verifier;
  }
  codeVerifier() {
    return this._verifier;
  }
  invalidateCredentials(scope) {
    if (scope === "all" || scope === "tokens") this._tokens = undefined;
    if (scope === "all" || scope === "client") this._client = undefined;
  }
  async redirectToAuthorization(authorizationUrl) {
    if (outcome.authorizations.length >= MAX_AUTHORIZATIONS) {
      throw new Error(`gave up after ${MAX_AUTHORIZATIONS} authorizations`);
    }
    const url = new URL(authorizationUrl);
    const sent = new URLSearchParams(url.search);
    if (scenario.login_hint) url.searchParams.set("login_hint", scenario.login_hint);
    const times = scenario.misbehave_times ?? 1;
    const misbehave = scenario.misbehave && (times === 0 || outcome.authorizations.length < times) ? scenario.misbehave : null;
    if (misbehave) url.searchParams.set("misbehave", misbehave);
    const response = await fetch(url, { redirect: "manual" });
    const back = new URLSearchParams(new URL(response.headers.get("location") ?? "http://invalid/").search);
    outcome.authorizations.push({
      status: response.status,
      scope: sent.get("scope"),
      resource: sent.get("resource"),
      misbehave,
      error: back.get("error"),
      has_code: back.has("code"),
      state_matches: back.get("state") === sent.get("state"),
    });
    // What a callback page must do: refuse errors and a state it did not send.
    if (back.get("error")) throw new Error(`authorization failed: ${back.get("error")} ${back.get("error_description") ?? ""}`.trim());
    if (back.get("state") !== this._state) throw new Error("state mismatch: the authorization response is not ours");
    this.pendingCode = back.get("code");
  }
}

const provider = new MemoryProvider();
let transport;
let client;

// Run `step`; when the SDK stops for a user authorization, finish it and run the step again.
async function withAuthorization(step) {
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || !provider.pendingCode) throw error;
      const code = provider.pendingCode;
      provider.pendingCode = undefined;
      await transport.finishAuth(code);
    }
  }
}

async function connect() {
  transport = new StreamableHTTPClientTransport(new URL(scenario.url), { authProvider: provider });
  client = new Client({ name: "e2e-typescript-oauth-client", version: "1.0.0" });
  await client.connect(transport);
}

try {
  await withAuthorization(connect);
  outcome.sessionId = transport.sessionId;
  for (const call of scenario.calls ?? []) {
    if (call.sleep !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, call.sleep * 1000));
      continue;
    }
    const result = await withAuthorization(() => client.callTool({ name: call.tool, arguments: call.args ?? {} }));
    outcome.results.push({
      tool: call.tool,
      isError: Boolean(result.isError),
      texts: result.content.filter((block) => block.type === "text").map((block) => block.text),
    });
  }
  outcome.finalSessionId = transport.sessionId;
  await client.close();
} catch (error) {
  outcome.error = [{ type: error?.constructor?.name ?? "Error", message: String(error?.message ?? error).slice(0, 500) }];
}
outcome.clientId = provider.clientInformation()?.client_id ?? null;
clearTimeout(watchdog);
// Written synchronously: console.log to a pipe is asynchronous, and process.exit would cut an
// answer past the pipe's 64 KiB buffer short.
writeSync(1, JSON.stringify(outcome) + "\n");
process.exit(0);
