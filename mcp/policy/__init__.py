"""The policy seam: every MCP message crosses it, whatever carried it.

Transports translate HTTP and register the paths they carry messages on (``paths``); for each
exchange and each message they ask ``seam`` for a decision: who is asking (a verified token
with the required scopes), within which rate limit, whether this message may run (step-up,
session ownership), how long a stream it opens may live (revocation, caps per address), and
what the answers may weigh (``budget``). The checks are decided here once, never per path.
Below the transports; above the method tables, which refuse a request the seam did not clear.
"""
