"""What a 2025-era session is and does below HTTP, and the 2026-07-28 era's stand-ins for it.

operations (owned, end everywhere, push, release, stream counts), records (a caller's new
session, state handle or task record, with the limits checked in the same atomic step),
handles (state handles: a session's state scope for clients without sessions), listen
(what ``subscriptions/listen`` streams are told, through the broadcast channel), sweeper
(expiry of idle sessions with their streams and requests).

May import: calls, store, bus, process.periodic, figures, wire, errors.
"""
