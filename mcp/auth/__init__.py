"""The resource server: who a bearer token says the caller is, and what it may do.

config (the mode, the resource's canonical URI, its metadata and WWW-Authenticate
challenges), bearer (JWT and JWKS verification, the principal), scopes (step-up scopes and
how long a stream may last), views + urls (RFC 9728 Protected Resource Metadata).

May import: oauth (keys and the revocation list of the embedded server), errors, wire.
"""
