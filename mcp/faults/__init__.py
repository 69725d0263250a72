"""Fault injection: per-session, seeded, reproducible failures for client authors.

``profile`` validates what a client or operator asks for, ``draws`` turns it into what one
exchange gets (deterministically), ``state`` keeps it with the session in the store, and
``sse`` bends a stream's events. The transport applies a draw at its injection points and
marks each fault it injects (``inject``): in the exchange's traffic record and in
``mcp_faults_injected_total{kind}``.
"""
