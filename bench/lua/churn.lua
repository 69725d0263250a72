-- S3: session churn. Run with one connection per wrk thread (-tN -cN): each thread is a
-- state machine initialize -> notifications/initialized -> DELETE -> again.
-- "sessions" counts cycles whose three steps all succeeded; "cycles" counts every cycle that
-- reached DELETE, whatever it answered (for servers without DELETE).
local common = require("common")
local version = os.getenv("BENCH_VERSION") or "2025-11-25"
local state = "initialize"
local session = nil
local deleted_ok = false

setup = common.setup
done = common.done

local init_body = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"' .. version
  .. '","capabilities":{},"clientInfo":{"name":"mcp-echo-bench","version":"1.0"}}}'
local initialized_body = '{"jsonrpc":"2.0","method":"notifications/initialized"}'

function request()
  local headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
  }
  if state == "initialize" then
    return wrk.format("POST", "/mcp", headers, init_body)
  end
  headers["Mcp-Session-Id"] = session
  headers["MCP-Protocol-Version"] = version
  if state == "initialized" then
    return wrk.format("POST", "/mcp", headers, initialized_body)
  end
  return wrk.format("DELETE", "/mcp", headers)
end

function response(status, headers, body)
  local good = status >= 200 and status <= 299
  if state == "initialize" then
    session = common.header(headers, "mcp-session-id")
    if good and session then
      state = "initialized"
    else
      failed = (failed or 0) + 1
    end
  elseif state == "initialized" then
    if good then
      state = "delete"
    else
      failed = (failed or 0) + 1
      state = "initialize"
    end
  else
    cycles = (cycles or 0) + 1
    if good then sessions = (sessions or 0) + 1 end
    state = "initialize"
  end
end
