"""The embedded authorization server: Authlib's grants and endpoints over this app's models.

Authlib does the protocol (request validation, client authentication, PKCE, the JWT access
token of RFC 9068, RFC 7591 registration, RFC 7009 revocation); this module only stores and
finds things, binds the RFC 8707 resource into ``aud``, and applies the misbehaviours of
``mcp.oauth.misbehaviours``. Guarantees beyond Authlib's:

- PKCE is required and only S256 is accepted (a missing method, or "plain", is refused).
- A ``resource`` that is not this server's MCP_RESOURCE_URL is refused (invalid_target); the
  token's ``aud`` is the resource of the authorization, never a client-supplied string.
- An authorization code and a refresh token are each redeemed at most once, atomically;
  presenting a redeemed code again revokes the tokens issued from it (OAuth 2.1 4.1.3).
- Refresh tokens rotate: each refresh returns a new one and revokes the old. Presenting a
  rotated (or revoked) refresh token again revokes every access and refresh token of its
  grant, as a reused code does (RFC 9700 section 4.14.2): one of the two holders is an
  attacker, and the server cannot tell which.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from authlib.common.security import generate_token
from authlib.integrations.django_oauth2 import AuthorizationServer
from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7591.errors import InvalidRedirectURIError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from mcp.oauth import keys, revocation
from mcp.oauth.metadata import server_metadata
from mcp.oauth.misbehaviours import has, step_up_tools
from mcp.oauth.models import AuthorizationCode, Client, Token, digest
from mcp.oauth.policy import is_acceptable_redirect_uri
from mcp.oauth.registrations import client_address
from mcp.redact import mask
from mcp.wire.uri import canonical_uri

logger = logging.getLogger("mcp.oauth")

WRONG_AUDIENCE = "https://wrong-audience.invalid/mcp"
STEP_UP_CLAIM = "mcp_step_up_tools"
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class InvalidTargetError(OAuth2Error):
    """RFC 8707 section 2: the requested resource is not one this server issues tokens for."""

    error = "invalid_target"


@dataclass(slots=True)
class Grantee:
    """Whom a token is for (Authlib's "user"): the subject, the resource, the misbehaviours."""

    subject: str
    resource: str
    misbehaviours: list[str] = field(default_factory=list)
    first: bool = True
    grant: AuthorizationCode | None = None

    def get_user_id(self) -> str:
        return self.subject


def requested_resource(request: Any) -> str:
    """The RFC 8707 resource of a request: absent means this server's; anything else is refused."""
    values = request.payload.datalist.get("resource") or []
    if len(values) > 1:
        raise InvalidTargetError("This server issues tokens for one resource per request.")
    if values and canonical_uri(values[0]) != canonical_uri(settings.MCP_RESOURCE_URL):
        raise InvalidTargetError(f"This server issues tokens only for {settings.MCP_RESOURCE_URL}.")
    return settings.MCP_RESOURCE_URL


def revoke_token(token: Token, *, access: bool = True, refresh: bool = True) -> None:
    now = timezone.now()
    if access and token.access_revoked is None:
        token.access_revoked = now
    if refresh and token.refresh_token_digest and token.refresh_revoked is None:
        token.refresh_revoked = now
    token.save(update_fields=["access_revoked", "refresh_revoked"])
    if token.access_revoked is not None:
        revocation.revoke(token.jti, token.access_expires.timestamp())


def revoke_grant(grant: AuthorizationCode | None, token: Token | None = None) -> None:
    """Revoke every access and refresh token issued under ``grant`` (or just ``token``, which
    has no grant: a client_credentials token)."""
    tokens = list(grant.tokens.all()) if grant is not None else [token] if token is not None else []
    for item in tokens:
        revoke_token(item)
    if tokens:
        logger.info(
            "credential reuse: revoked %d token(s) of %r's grant", len(tokens), str(tokens[0].subject)[:80]
        )


class AlreadyUsed(Exception):
    """A code or refresh token was spent by a concurrent request first."""


def use_once(model: type[models.Model], pk: int, field: str) -> None:
    """Mark a code redeemed (or a refresh token rotated) unless a concurrent request did first."""
    if not model.objects.filter(pk=pk, **{f"{field}__isnull": True}).update(**{field: timezone.now()}):
        raise AlreadyUsed


# --- Tokens ----------------------------------------------------------------------------------


class TokenGenerator(JWTBearerTokenGenerator):
    """RFC 9068 JWT access tokens signed with ``mcp.oauth.keys``, ``aud`` = the resource."""

    def get_jwks(self) -> Any:
        return keys.signing_keys()

    def get_audiences(self, client: Client, user: Grantee, scope: str) -> str:
        return WRONG_AUDIENCE if has(user.misbehaviours, "wrong_audience") else user.resource

    def get_extra_claims(self, client: Client, grant_type: str, user: Grantee, scope: str) -> dict[str, Any]:
        claims: dict[str, Any] = {}
        if user.first and has(user.misbehaviours, "expired_token"):
            now = int(time.time())
            claims.update(iat=now - 7200, exp=now - 3600)
        if has(user.misbehaviours, "missing_scope"):
            required = set(settings.MCP_REQUIRED_SCOPES)
            claims["scope"] = " ".join(item for item in scope_to_list(scope) if item not in required)
        tools = step_up_tools(user.misbehaviours)
        if tools:
            claims[STEP_UP_CLAIM] = tools
        return claims


class Server(AuthorizationServer):
    def create_json_request(self, request: Any) -> Any:
        """Authlib's JSON request (registration), carrying the address registrations count."""
        json_request = super().create_json_request(request)
        json_request.client_address = client_address(request)
        return json_request

    def query_client(self, client_id: str) -> Client | None:
        from mcp.oauth import cimd

        if cimd.is_metadata_url(client_id):
            return cimd.resolve(client_id)
        return Client.objects.filter(client_id=client_id, source__in=("dcr", "admin")).first()

    def save_token(self, token: dict[str, Any], request: Any) -> Token:
        grantee: Grantee = request.user
        claims = jwt.decode(token["access_token"], options={"verify_signature": False})
        now = timezone.now()
        refresh = token.get("refresh_token")
        return Token.objects.create(
            client=request.client,
            grant=grantee.grant,
            subject=grantee.subject,
            grant_type=request.payload.grant_type or "",
            scope=token.get("scope") or "",
            resource=grantee.resource,
            jti=claims["jti"],
            access_token_preview=mask(token["access_token"]),
            refresh_token_digest=digest(refresh) if refresh else "",
            misbehaviours=grantee.misbehaviours,
            issued=now,
            access_expires=datetime.fromtimestamp(claims["exp"], tz=UTC),
            refresh_expires=now + timedelta(seconds=settings.MCP_OAUTH_REFRESH_TOKEN_TTL)
            if refresh
            else None,
        )


# --- Grants ----------------------------------------------------------------------------------


class S256Challenge(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if data.get("code_challenge_method") != "S256" or not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: AuthorizationCode) -> str:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: AuthorizationCode) -> str:
        return authorization_code.code_challenge_method


class OurTokenRules:
    """Token-endpoint grants of this server: the ``resource`` must be ours, and the credential
    presented (``used_once``: request attribute, model, field) is spent atomically."""

    used_once: tuple[str, type[models.Model], str] | None = None

    def validate_token_request(self) -> None:
        super().validate_token_request()  # type: ignore[misc]
        requested_resource(self.request)  # type: ignore[attr-defined]

    def create_token_response(self) -> Any:
        try:
            with transaction.atomic():
                if self.used_once is not None:
                    attribute, model, used_field = self.used_once
                    use_once(model, getattr(self.request, attribute).pk, used_field)  # type: ignore[attr-defined]
                return super().create_token_response()  # type: ignore[misc]
        except AlreadyUsed:
            # Two requests spent the same credential at once: a reuse like any other.
            self.revoke_family()
            raise InvalidGrantError("The authorization code or refresh token was already used.") from None

    def revoke_family(self) -> None:
        """Revoke what the reused credential's grant issued (RFC 9700 section 4.14.2)."""


def grantee_of(record: AuthorizationCode | Token, *, first: bool) -> Grantee:
    return Grantee(
        subject=record.subject,
        resource=record.resource,
        misbehaviours=list(record.misbehaviours),
        first=first,
        grant=record if isinstance(record, AuthorizationCode) else record.grant,
    )


class CodeGrant(OurTokenRules, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    used_once = ("authorization_code", AuthorizationCode, "redeemed")

    def validate_authorization_request(self) -> str:
        redirect_uri = super().validate_authorization_request()
        try:
            self.request.resource = requested_resource(self.request)
        except OAuth2Error as error:
            error.redirect_uri = redirect_uri
            raise
        return redirect_uri

    def save_authorization_code(self, code: str, request: Any) -> AuthorizationCode:
        grantee: Grantee = request.user
        now = timezone.now()
        item = AuthorizationCode.objects.create(
            code_digest=digest(code),
            client=request.client,
            subject=grantee.subject,
            redirect_uri=request.payload.redirect_uri or request.client.get_default_redirect_uri() or "",
            scope=request.scope or "",
            resource=grantee.resource,
            code_challenge=request.payload.data["code_challenge"],
            code_challenge_method="S256",
            misbehaviours=grantee.misbehaviours,
            created=now,
            expires=now + timedelta(seconds=settings.MCP_OAUTH_CODE_TTL),
            redeemed=now if has(grantee.misbehaviours, "reused_code") else None,
        )
        grantee.grant = item
        return item

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        item = AuthorizationCode.objects.filter(code_digest=digest(code), client=client).first()
        if item is None or item.is_expired():
            return None
        if item.redeemed is not None:
            revoke_grant(item)
            raise InvalidGrantError("The authorization code was already used.")
        return item

    def revoke_family(self) -> None:
        revoke_grant(self.request.authorization_code)

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Redeemed codes are kept (marked) so that a second use can be detected."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Grantee:
        return grantee_of(authorization_code, first=True)


class RefreshGrant(OurTokenRules, grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True
    used_once = ("refresh_token", Token, "refresh_revoked")

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        item = (
            Token.objects.select_related("client", "grant")
            .filter(refresh_token_digest=digest(refresh_token))
            .first()
        )
        if item is None or item.is_expired():
            return None
        if item.is_revoked():
            revoke_grant(item.grant, item)
            raise InvalidGrantError(
                "The refresh token was already used or revoked; every token of its grant is now revoked."
            )
        if has(item.misbehaviours, "refresh_fails"):
            raise InvalidGrantError("The refresh token was refused (misbehaviour refresh_fails).")
        return item

    def authenticate_user(self, refresh_token: Token) -> Grantee:
        return grantee_of(refresh_token, first=False)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        """Done atomically in ``create_token_response`` before the new token is made."""

    def revoke_family(self) -> None:
        token: Token = self.request.refresh_token
        revoke_grant(token.grant, token)


class MachineGrant(OurTokenRules, grants.ClientCredentialsGrant):
    """client_credentials: the client is its own subject; the token is for this resource."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def create_token_response(self) -> Any:
        client: Client = self.request.client
        grantee = Grantee(
            subject=client.client_id,
            resource=requested_resource(self.request),
            misbehaviours=effective_misbehaviours(client, []),
        )
        self.request.user = grantee
        token = self.generate_token(
            user=grantee,
            scope=client.get_allowed_scope(self.request.payload.scope),
            include_refresh_token=False,
        )
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


# --- Endpoints -------------------------------------------------------------------------------


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        by_refresh = Token.objects.filter(refresh_token_digest=digest(token_string)).first()
        if by_refresh is not None or token_type_hint == "refresh_token":  # noqa: S105
            return by_refresh
        try:
            claims = jwt.decode(
                token_string,
                keys.public_key(),
                algorithms=[keys.ALGORITHM],
                options={"verify_exp": False, "verify_aud": False},
            )
        except jwt.PyJWTError:
            return None
        return Token.objects.filter(jti=str(claims.get("jti"))).first()

    def revoke_token(self, token: Token, request: Any) -> None:
        revoke_token(token)


class Registration(ClientRegistrationEndpoint):
    """RFC 7591, open: anyone may register a client (this is a test server)."""

    def authenticate_token(self, request: Any) -> bool:
        return True

    def get_server_metadata(self) -> dict[str, Any]:
        return server_metadata()

    def generate_client_info(self, request: Any) -> dict[str, Any]:
        info = super().generate_client_info(request)
        if request.payload.data.get("token_endpoint_auth_method") == "none":
            info.pop("client_secret", None)
            info.pop("client_secret_expires_at", None)
        return info

    def save_client(
        self, client_info: dict[str, Any], client_metadata: dict[str, Any], request: Any
    ) -> Client:
        uris = client_metadata.get("redirect_uris") or []
        if not all(is_acceptable_redirect_uri(uri) for uri in uris):
            raise InvalidRedirectURIError("Redirect URIs must use https, or http on a loopback host.")
        metadata = {"token_endpoint_auth_method": "client_secret_basic", **client_metadata}
        client = Client(
            client_id=client_info["client_id"],
            source="dcr",
            client_name=str(metadata.get("client_name") or "")[:200],
            metadata=metadata,
            registered_from=request.client_address,
        )
        client.set_secret(client_info.get("client_secret"))
        client.save()
        return client


def effective_misbehaviours(client: Client, requested: list[str]) -> list[str]:
    """The operator's (MCP_OAUTH_MISBEHAVIOURS), the client's, then this authorization's."""
    merged: list[str] = []
    for value in [*settings.MCP_OAUTH_MISBEHAVIOURS, *client.misbehaviours, *requested]:
        if value not in merged:
            merged.append(value)
    return merged


@lru_cache(maxsize=1)
def get_server() -> Server:
    server = Server(Client, Token)
    server.scopes_supported = server_metadata()["scopes_supported"]
    server.register_token_generator(
        "default",
        TokenGenerator(
            issuer=settings.MCP_OAUTH_ISSUER,
            refresh_token_generator=lambda *args, **kwargs: generate_token(48),
            expires_generator=lambda client, grant_type: settings.MCP_OAUTH_ACCESS_TOKEN_TTL,
        ),
    )
    server.register_grant(CodeGrant, [S256Challenge(required=True)])
    server.register_grant(RefreshGrant)
    server.register_grant(MachineGrant)
    server.register_endpoint(Revocation)
    if settings.MCP_OAUTH_DCR:
        server.register_endpoint(Registration)
    return server
