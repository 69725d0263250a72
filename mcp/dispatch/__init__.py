"""Method tables: which handler answers which JSON-RPC method, one table per era.

``sessions``: the 2025 eras (initialize is answered by the transport); ``stateless``:
2026-07-28. ``base``: how one handler call is run, counted and timed, shared by both.

May import: handlers, calls, sessions, figures and everything below. The two eras' tables
do not import each other (an import-linter contract).
"""
