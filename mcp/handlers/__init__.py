"""One async function per MCP method, below HTTP: ``handler(ctx, params) -> result``.

methods (lifecycle, tools, resources, prompts, completion), tasks (2025-11-25 task-augmented
calls), task_extension (the 2026-07-28 tasks extension), skills (the skills extension's
methods), extensions (what capabilities.extensions offers, per era).

May import: tools, sessions, calls, faults, store, bus, wire. Never HTTP objects.
"""
