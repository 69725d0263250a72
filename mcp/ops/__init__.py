"""The operator side, beside the transport: /health, /metrics, /status and its feed, the admin's
live-session pages, process stats and logs. It reads the store, the bus and the metrics and acts
through session operations; it never imports a transport view.
"""
