"""The embedded OAuth 2.1 authorization server (MCP_AUTH=embedded), a Django app of its own.

It issues the JWT access tokens that ``mcp.auth.bearer`` verifies, for this server's own /mcp, and
misbehaves on request (``mcp.oauth.misbehaviours``) so that client authors can see how their
client copes. Protocol work is Authlib's (``mcp.oauth.server``); state is in Django's database.
"""
