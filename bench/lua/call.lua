-- S1, S2, S6: tools/call echo, each request with a fresh JSON-RPC id.
-- BENCH_SESSIONS: a file with one session id per line (requests take them round-robin);
-- BENCH_ERA=modern sends 2026-07-28 stateless requests instead (no session).
local common = require("common")
local era = os.getenv("BENCH_ERA") or "session"
local version = os.getenv("BENCH_VERSION") or "2025-11-25"
local sessions = {}
local counter = 0

setup = common.setup
done = common.done

function init(args)
  local path = os.getenv("BENCH_SESSIONS")
  if path then
    for line in io.lines(path) do
      if #line > 0 then table.insert(sessions, line) end
    end
  end
  counter = (thread_index or 1) * 1000000000
end

local plain = '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}'
local modern = '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"},'
  .. '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},'
  .. '"io.modelcontextprotocol/clientInfo":{"name":"mcp-echo-bench","version":"1.0"}}}}'

function request()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
  }
  if era == "modern" then
    headers["MCP-Protocol-Version"] = "2026-07-28"
    headers["Mcp-Method"] = "tools/call"
    headers["Mcp-Name"] = "echo"
    return wrk.format("POST", "/mcp", headers, string.format(modern, counter))
  end
  headers["Mcp-Session-Id"] = sessions[(counter % #sessions) + 1]
  headers["MCP-Protocol-Version"] = version
  return wrk.format("POST", "/mcp", headers, string.format(plain, counter))
end

function response(status, headers, body)
  common.count(status, body)
end
