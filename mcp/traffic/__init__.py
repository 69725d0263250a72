"""Each session's recorded traffic: the record, its stored form, and its exports.

record (the last MCP_TRAFFIC_LOG exchanges, kept with the session), codec (one entry as
compact bytes), har (HAR 1.2 and JSON lines, pure), export (the download views).

May import: store, wire, redact. Not transport, handlers or tools.
"""
