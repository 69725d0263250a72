-- Shared by the bench's wrk scripts: counting good answers per thread, one JSON summary line.
-- A good answer is a 2xx whose body holds a JSON-RPC "result" (JSON or SSE data line).
local M = {}
local threads = {}

function M.setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads)
end

function M.header(headers, wanted)
  for name, value in pairs(headers) do
    if string.lower(name) == wanted then return value end
  end
  return nil
end

function M.count(status, body)
  if status < 200 or status > 299 then
    non2xx = (non2xx or 0) + 1
  elseif string.find(body, '"result"', 1, true) then
    ok = (ok or 0) + 1
  else
    bad = (bad or 0) + 1
  end
end

-- Prints "BENCH_JSON {...}" with the summed counters of every thread and wrk's own figures.
function M.done(summary, latency, requests)
  local sums = {}
  for _, thread in ipairs(threads) do
    for _, name in ipairs({"ok", "bad", "non2xx", "cycles", "sessions", "failed"}) do
      sums[name] = (sums[name] or 0) + (thread:get(name) or 0)
    end
  end
  local errors = summary.errors
  local parts = {
    string.format('"duration_us":%d', summary.duration),
    string.format('"requests":%d', summary.requests),
    string.format('"p50_us":%d', latency:percentile(50)),
    string.format('"p99_us":%d', latency:percentile(99)),
    string.format('"mean_us":%.1f', latency.mean),
    string.format('"socket_errors":%d', errors.connect + errors.read + errors.write + errors.timeout),
    string.format('"timeouts":%d', errors.timeout),
  }
  for name, value in pairs(sums) do
    table.insert(parts, string.format('"%s":%d', name, value))
  end
  io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end

return M
