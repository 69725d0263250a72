"""The Lua scripts of the Redis bus: each change to a session's streams, atomic on the server.

Key names and the channel are passed in by ``mcp.bus.redis`` (see its docstring for the
layout). Every script that changes a stream publishes a wake-up notice on the session's
channel in the same step, so a notice never precedes the change it announces.
"""

from __future__ import annotations

from mcp.redis_client import Script

# Forgets the oldest finished request streams beyond ``retained`` (ARGV[head], ARGV[sid]
# build the stream keys, as in MemoryBus: a stream still being written is kept).
_FORGET = """
local function forget(meta, head, sid, retained)
  local numbers = {}
  for _, field in ipairs(redis.call('HKEYS', meta)) do
    local n = string.match(field, '^r(%d+)%.seq$')
    if n then numbers[#numbers + 1] = tonumber(n) end
  end
  local excess = #numbers - retained
  if excess <= 0 then return end
  table.sort(numbers)
  for _, n in ipairs(numbers) do
    if excess <= 0 then return end
    local name = 'r' .. n
    if redis.call('HGET', meta, name .. '.done') == '1' then
      redis.call('HDEL', meta, name .. '.seq', name .. '.dropped', name .. '.delivered',
        name .. '.owner', name .. '.done')
      redis.call('DEL', head .. name .. ':' .. sid)
      excess = excess - 1
    end
  end
end
"""

# KEYS: meta, stream, tombstone, bus totals. ARGV: name, message, final, hangup, capacity,
# ttl ms, channel, retained, head, sid, inline. Returns the event's seq, or 0 if the session was
# dropped. The notice names the seq and, when ``inline`` is 1, carries the event itself.
PUBLISH = Script(
    _FORGET
    + """
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local name, cap = ARGV[1], tonumber(ARGV[5])
local fresh = redis.call('HEXISTS', KEYS[1], name .. '.seq') == 0
local seq = redis.call('HINCRBY', KEYS[1], name .. '.seq', 1)
if redis.call('XLEN', KEYS[2]) >= cap then
  redis.call('HINCRBY', KEYS[1], name .. '.dropped', 1)
  redis.call('HINCRBY', KEYS[4], 'overflow', 1)
end
local entry = {'m', ARGV[2]}
if ARGV[3] == '1' then
  entry[#entry + 1] = 'f'
  entry[#entry + 1] = '1'
  redis.call('HSET', KEYS[1], name .. '.done', '1')
end
if ARGV[4] == '1' then
  entry[#entry + 1] = 'h'
  entry[#entry + 1] = '1'
end
redis.call('XADD', KEYS[2], 'MAXLEN', cap, '0-' .. seq, unpack(entry))
if fresh and name ~= 'g' then forget(KEYS[1], ARGV[9], ARGV[10], tonumber(ARGV[8])) end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
local notice = 'w:' .. name .. ':' .. seq
if ARGV[11] == '1' then notice = notice .. ':' .. ARGV[3] .. ARGV[4] .. ':' .. ARGV[2] end
redis.call('PUBLISH', ARGV[7], notice)
return seq
"""
)

# KEYS: meta, stream, tombstone. ARGV: name, after, owner token ('' for any reader), delivered
# (0 for nothing to record), ttl ms. Returns {0, entries after ``after``}, {1} if the session was
# dropped, or {2} if the token is no longer the stream's owner (checked after recording).
LOOK = Script("""
if redis.call('EXISTS', KEYS[3]) == 1 then return {1} end
local name = ARGV[1]
local delivered = tonumber(ARGV[4])
if delivered > 0 then
  redis.call('HINCRBY', KEYS[1], name .. '.seq', 0)
  local field = name .. '.delivered'
  if delivered > tonumber(redis.call('HGET', KEYS[1], field) or '0') then
    redis.call('HSET', KEYS[1], field, delivered)
  end
end
if ARGV[3] ~= '' and (redis.call('HGET', KEYS[1], name .. '.owner') or '0') ~= ARGV[3] then return {2} end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {0, redis.call('XRANGE', KEYS[2], '0-' .. (math.max(tonumber(ARGV[2]), 0) + 1), '+')}
""")

# KEYS: meta. ARGV: ttl ms, retained, head, sid. Returns the new stream's number.
NEW_STREAM = Script(
    _FORGET
    + """
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HINCRBY', KEYS[1], 'r' .. n .. '.seq', 0)
forget(KEYS[1], ARGV[3], ARGV[4], tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n
"""
)

# KEYS: meta. ARGV: name, ttl ms, channel. Returns the new claim token.
CLAIM = Script("""
redis.call('HINCRBY', KEYS[1], ARGV[1] .. '.seq', 0)
local token = redis.call('HINCRBY', KEYS[1], ARGV[1] .. '.owner', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], 'o:' .. ARGV[1])
return token
""")

# KEYS: meta. ARGV: name, seq, ttl ms.
MARK_DELIVERED = Script("""
redis.call('HINCRBY', KEYS[1], ARGV[1] .. '.seq', 0)
local field = ARGV[1] .. '.delivered'
if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], field) or '0') then
  redis.call('HSET', KEYS[1], field, ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
""")

# KEYS: meta, stream. ARGV: name. Returns {queued, dropped, delivered, done}.
INFO = Script("""
local name = ARGV[1]
local fields = redis.call('HMGET', KEYS[1], name .. '.dropped', name .. '.delivered', name .. '.done')
local delivered = tonumber(fields[2] or '0')
local queued = 0
for _, entry in ipairs(redis.call('XRANGE', KEYS[2], '0-' .. (delivered + 1), '+')) do
  if entry[2][2] ~= '' then queued = queued + 1 end
end
return {queued, tonumber(fields[1] or '0'), delivered, fields[3] == '1' and 1 or 0}
""")

# K: meta, tombstone. A: head, sid, channel, tombstone ttl ms. A function, so that the store
# can run it in the same step as the session's deletion (``RedisBus.drop_step``).
DROP_STREAMS = """
local function drop_streams(K, A)
  redis.call('SET', K[2], '1', 'PX', A[4])
  for _, field in ipairs(redis.call('HKEYS', K[1])) do
    local name = string.match(field, '^(.+)%.seq$')
    if name then redis.call('DEL', A[1] .. name .. ':' .. A[2]) end
  end
  redis.call('DEL', K[1])
  redis.call('PUBLISH', A[3], 'c')
end
"""

# KEYS, ARGV: as DROP_STREAMS's K and A.
DROP = Script(DROP_STREAMS + "drop_streams(KEYS, ARGV)\nreturn 1\n")

# KEYS: waiter, mailbox. ARGV: reply, ttl ms, channel, request id. Returns 1 if a waiter was
# registered; the registration is consumed, so a duplicate reply finds nobody. The reply is
# stored either way: it may have overtaken its waiter's registration.
REPLY = Script("""
local waiting = redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], 'r:' .. ARGV[4])
return waiting
""")
