"""The admin of the embedded authorization server: clients, grants and tokens, with subjects.

Guarantees: no secret is shown (none is stored in the clear: the admin shows whether a client
has a secret, the access token's jti and masked preview, whether a refresh token exists);
revoking tokens here takes effect on the very next /mcp request that carries them
(``mcp.oauth.revocation``), for every session opened with them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from mcp.oauth import misbehaviours
from mcp.oauth.models import AuthorizationCode, Client, Token
from mcp.oauth.server import revoke_token


def _validate_misbehaviours(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError('a JSON list of names, e.g. ["deny"] or ["step_up:echo"]')
    try:
        misbehaviours.parse_all(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("__str__", "source", "short_client_id", "has_secret", "misbehaviours", "created")
    list_filter = ("source",)
    search_fields = ("client_id", "client_name")
    readonly_fields = ("client_id", "source", "has_secret", "created", "metadata_fetched", "metadata_expires")
    fields = (
        "client_name",
        "client_id",
        "source",
        "has_secret",
        "metadata",
        "misbehaviours",
        "created",
        "metadata_fetched",
        "metadata_expires",
    )

    @admin.display(description="client id")
    def short_client_id(self, obj: Client) -> str:
        return obj.client_id if len(obj.client_id) <= 60 else obj.client_id[:57] + "…"

    @admin.display(boolean=True, description="secret")
    def has_secret(self, obj: Client) -> bool:
        return bool(obj.client_secret_digest)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        _validate_misbehaviours(obj.misbehaviours)
        obj.misbehaviours = misbehaviours.parse_all(obj.misbehaviours)
        super().save_model(request, obj, form, change)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["misbehaviours"].validators.append(_validate_misbehaviours)
        return form


@admin.register(AuthorizationCode)
class GrantAdmin(admin.ModelAdmin):
    list_display = ("subject", "client", "scope", "misbehaviours", "created", "redeemed")
    list_filter = ("client",)
    search_fields = ("subject",)
    readonly_fields = [field.name for field in AuthorizationCode._meta.fields if field.name != "code_digest"]
    exclude = ("code_digest",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.action(description="Revoke the selected tokens (access and refresh)")
def revoke_tokens(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Token]) -> None:
    count = 0
    for token in queryset.select_related("client"):
        revoke_token(token)
        count += 1
    modeladmin.message_user(
        request, f"Revoked {count} token(s): their next request gets 401.", messages.SUCCESS
    )


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    list_display = (
        "subject",
        "client",
        "grant_type",
        "scope",
        "jti",
        "access_token_preview",
        "status",
        "has_refresh_token",
        "issued",
        "access_expires",
    )
    list_filter = ("grant_type", "client")
    search_fields = ("subject", "jti")
    actions = [revoke_tokens]
    exclude = ("refresh_token_digest",)
    readonly_fields = [field.name for field in Token._meta.fields if field.name != "refresh_token_digest"]

    @admin.display(description="status")
    def status(self, obj: Token) -> str:
        if obj.access_revoked is not None:
            return "revoked"
        return "expired" if obj.access_expires <= timezone.now() else "active"

    @admin.display(boolean=True, description="refresh token")
    def has_refresh_token(self, obj: Token) -> bool:
        return bool(obj.refresh_token_digest) and obj.refresh_revoked is None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
