"""The embedded authorization server's state: clients, authorization codes (grants), tokens.

Guarantees: no secret is stored in the clear. Client secrets, authorization codes and refresh
tokens are kept as SHA-256 digests (they are long random strings, so a plain digest is
enough); access tokens are JWTs kept only as their ``jti`` and a masked preview. The Authlib
mixins' methods are the library's contract for its grant and endpoint code.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from django.db import models
from django.utils import timezone


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Client(models.Model, ClientMixin):
    SOURCES = [("dcr", "dynamic registration"), ("cimd", "metadata document"), ("admin", "admin")]

    client_id = models.CharField(max_length=2048, unique=True)
    client_secret_digest = models.CharField(max_length=64, blank=True, editable=False)
    source = models.CharField(max_length=8, choices=SOURCES, default="admin")
    client_name = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, help_text="RFC 7591 client metadata")
    misbehaviours = models.JSONField(
        default=list, blank=True, help_text='e.g. ["deny"] or ["step_up:echo"]; see the README'
    )
    created = models.DateTimeField(default=timezone.now)
    registered_from = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="client address of an open registration"
    )
    metadata_fetched = models.DateTimeField(null=True, blank=True)
    metadata_expires = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.client_name or self.client_id[:60]

    # --- Authlib's ClientMixin -------------------------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        from django.conf import settings

        allowed = set(settings.MCP_REQUIRED_SCOPES) | {settings.MCP_OAUTH_STEP_UP_SCOPE}
        registered = self.metadata.get("scope")
        if isinstance(registered, str) and registered.strip():
            allowed &= set(scope_to_list(registered)) | {settings.MCP_OAUTH_STEP_UP_SCOPE}
        if not scope:
            return list_to_scope(sorted(set(settings.MCP_REQUIRED_SCOPES) & allowed))
        return list_to_scope([item for item in scope_to_list(scope) if item in allowed])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.client_secret_digest:
            return False
        return hmac.compare_digest(self.client_secret_digest, digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.metadata.get("token_endpoint_auth_method", "client_secret_basic")

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.metadata.get("response_types", ["code"])

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.metadata.get("grant_types", ["authorization_code"])

    @property
    def redirect_uris(self) -> list[str]:
        uris = self.metadata.get("redirect_uris") or []
        return [uri for uri in uris if isinstance(uri, str)]

    def set_secret(self, secret: str | None) -> None:
        self.client_secret_digest = digest(secret) if secret else ""


class AuthorizationCode(models.Model, AuthorizationCodeMixin):
    """One authorization (a grant): what the user approved, and the code that carries it."""

    code_digest = models.CharField(max_length=64, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="grants")
    subject = models.CharField(max_length=200)
    redirect_uri = models.TextField()
    scope = models.TextField(blank=True)
    resource = models.TextField()
    code_challenge = models.CharField(max_length=128)
    code_challenge_method = models.CharField(max_length=10, default="S256")
    misbehaviours = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()
    redeemed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "grant"

    def __str__(self) -> str:
        return f"{self.subject} → {self.client}"

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_auth_time(self) -> int:
        return int(self.created.timestamp())

    def get_nonce(self) -> None:
        return None

    def is_expired(self) -> bool:
        return timezone.now() >= self.expires


class Token(models.Model, TokenMixin):
    """An access token (by jti) and, for user grants, the refresh token issued with it."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="tokens")
    grant = models.ForeignKey(
        AuthorizationCode, on_delete=models.SET_NULL, null=True, blank=True, related_name="tokens"
    )
    subject = models.CharField(max_length=200)
    grant_type = models.CharField(max_length=40)
    scope = models.TextField(blank=True)
    resource = models.TextField()
    jti = models.CharField(max_length=64, unique=True)
    access_token_preview = models.CharField(max_length=60)
    refresh_token_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    misbehaviours = models.JSONField(default=list, blank=True)
    issued = models.DateTimeField(default=timezone.now)
    access_expires = models.DateTimeField()
    refresh_expires = models.DateTimeField(null=True, blank=True)
    access_revoked = models.DateTimeField(null=True, blank=True)
    refresh_revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued"]

    def __str__(self) -> str:
        return f"{self.subject} / {self.jti[:8]}…"

    def check_client(self, client: Any) -> bool:
        return self.client_id == client.pk

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int(self.access_expires.timestamp() - time.time()))

    def is_expired(self) -> bool:
        return self.refresh_expires is None or timezone.now() >= self.refresh_expires

    def is_revoked(self) -> bool:
        return self.refresh_revoked is not None

    def get_user(self) -> str:
        return self.subject

    def get_client(self) -> Client:
        return self.client
