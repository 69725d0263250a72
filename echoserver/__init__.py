"""The Django project of the MCP echo server: settings, URLs, the ASGI application, the CLI."""

__version__ = "1.0.0"
