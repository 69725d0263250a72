"""One request in flight: what a handler or tool sees of the world while it runs.

context (the ``Context``: state scope, request facts, ways to talk back), streams (where the
request's messages go, JSON or SSE), inputs (input a tool asks the client for, and the
requestState that carries it across rounds, 2026-07-28), running (the requests running in
this process, so notifications/cancelled can stop them).

May import: store, bus, faults.draws, wire. Not sessions, handlers, tools or HTTP.
"""
