"""HTTP endpoints of the embedded authorization server (404 unless MCP_AUTH=embedded).

Plain function views over ``mcp.oauth.server``. The authorization endpoint shows the consent
page (MCP_OAUTH_CONSENT=page, or ``prompt=consent``) or approves at once (``auto``, for
headless tests), then applies the authorization-time misbehaviours to the redirect.
Guarantees: errors that cannot be trusted to go back to the client (unknown client,
unregistered redirect URI) are shown as a page and never redirected; no page or error
repeats a code, token or secret.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.common.security import generate_token
from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mcp.oauth import keys, misbehaviours, registrations
from mcp.oauth.bodies import bounded, oauth_error
from mcp.oauth.metadata import metadata_problem, server_metadata
from mcp.oauth.policy import is_loopback
from mcp.oauth.server import Grantee, effective_misbehaviours, get_server

logger = logging.getLogger("mcp.oauth")

MAX_SUBJECT = 200


def embedded_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if settings.MCP_AUTH != "embedded":
            return JsonResponse(
                {"error": "not_found", "error_description": "The embedded authorization server is off"},
                status=404,
            )
        return view(request, *args, **kwargs)

    return wrapper


@csrf_exempt
@require_GET
@embedded_only
def authorization_server_metadata(request: HttpRequest) -> HttpResponse:
    return JsonResponse(server_metadata(), headers={"Cache-Control": "max-age=300"})


@csrf_exempt
@require_GET
@embedded_only
def jwks(request: HttpRequest) -> HttpResponse:
    return JsonResponse(keys.public_jwks(), headers={"Cache-Control": "max-age=300"})


@csrf_exempt
@require_POST
@embedded_only
@bounded
def token(request: HttpRequest) -> HttpResponse:
    return get_server().create_token_response(request)


@csrf_exempt
@require_POST
@embedded_only
@bounded
def register(request: HttpRequest) -> HttpResponse:
    if not settings.MCP_OAUTH_DCR:
        return JsonResponse({"error": "not_found", "error_description": "Registration is off"}, status=404)
    problem = metadata_problem(request.body)
    if problem:
        return oauth_error("invalid_client_metadata", problem, status=400)
    refused = registrations.refusal(registrations.client_address(request))
    if refused is not None:
        return refused
    return get_server().create_endpoint_response("client_registration", request)


@csrf_exempt
@require_POST
@embedded_only
@bounded
def revoke(request: HttpRequest) -> HttpResponse:
    return get_server().create_endpoint_response("revocation", request)


# --- The authorization endpoint and its consent page -----------------------------------------


def _error(request: HttpRequest, error: OAuth2Error) -> HttpResponse:
    """Back to the client when its redirect URI was verified, else a page (never redirected)."""
    server = get_server()
    if error.redirect_uri:
        return _to_client(server.handle_error_response(request, error), [])
    return render(
        request,
        "oauth/error.html",
        {"error": error.error, "description": error.description or ""},
        status=400,
    )


def _requested_misbehaviours(values: list[str]) -> list[str]:
    items = [item for value in values for item in value.split(",")]
    return misbehaviours.parse_all(items)


def _subject(value: str | None) -> str:
    value = (value or "").strip()
    if not value:
        return settings.MCP_OAUTH_SUBJECT
    if len(value) > MAX_SUBJECT or not value.isprintable():
        raise ValueError(f"the subject must be 1-{MAX_SUBJECT} printable characters")
    return value


def _to_client(response: HttpResponse, chosen: list[str]) -> HttpResponse:
    """An authorization response redirect, with ``iss`` (RFC 9207) and, on success, the
    wrong_state and invalid_code misbehaviours applied."""
    location = response.get("Location")
    if response.status_code != 302 or not location:
        return response
    parts = urlsplit(location)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "code" in params:
        if misbehaviours.has(chosen, "wrong_state"):
            params["state"] = params.get("state", "") + "-not-the-state-you-sent"
        if misbehaviours.has(chosen, "invalid_code"):
            params["code"] = generate_token(48)
    params["iss"] = settings.MCP_OAUTH_ISSUER
    response["Location"] = urlunsplit(parts._replace(query=urlencode(params)))
    return response


@require_http_methods(["GET", "POST"])
@embedded_only
@bounded
def authorize(request: HttpRequest) -> HttpResponse:
    server = get_server()
    try:
        grant = server.get_consent_grant(request)
    except OAuth2Error as error:
        return _error(request, error)
    client = grant.request.client
    state = grant.request.payload.state
    try:
        requested = _requested_misbehaviours(request.GET.getlist("misbehave"))
        if request.method == "POST":
            requested = _requested_misbehaviours(request.POST.getlist("misbehave"))
            tool = request.POST.get("step_up_tool", "").strip()
            if tool:
                requested = misbehaviours.parse_all([*requested, f"step_up:{tool}"])
        subject = _subject(
            request.POST.get("subject") if request.method == "POST" else request.GET.get("login_hint")
        )
    except ValueError as exc:
        return _error(request, InvalidRequestError(str(exc), redirect_uri=grant.redirect_uri, state=state))

    show_page = settings.MCP_OAUTH_CONSENT == "page" or request.GET.get("prompt") == "consent"
    if request.method == "GET" and show_page:
        return _consent_page(request, grant, subject, requested)

    chosen = effective_misbehaviours(client, requested)
    approved = request.method == "GET" or request.POST.get("decision") == "approve"
    grantee = None
    if approved and not misbehaviours.has(chosen, "deny"):
        grantee = Grantee(subject=subject, resource=grant.request.resource, misbehaviours=chosen)
    logger.info(
        "authorization %s: client %r, subject %r%s",
        "approved" if grantee else "denied",
        str(client)[:80],
        subject[:80],
        f", misbehaviours {', '.join(chosen)}" if chosen else "",
    )
    response = server.create_authorization_response(request, grant_user=grantee, grant=grant)
    return _to_client(response, chosen)


def _consent_page(request: HttpRequest, grant: Any, subject: str, requested: list[str]) -> HttpResponse:
    client = grant.request.client
    redirect_host = urlsplit(grant.redirect_uri).hostname or ""
    preset = effective_misbehaviours(client, requested)
    step_up = misbehaviours.step_up_tools(preset)
    context = {
        "client": client,
        "redirect_uri": grant.redirect_uri,
        "redirect_host": redirect_host,
        "loopback_only": all(is_loopback(urlsplit(uri).hostname or "") for uri in client.redirect_uris),
        "scopes": (grant.request.scope or "").split(),
        "resource": grant.request.resource,
        "subject": subject,
        "misbehaviours": [
            {"item": item, "checked": misbehaviours.has(preset, item.name)}
            for item in misbehaviours.REGISTRY
            if item.name != "step_up"
        ],
        "step_up_tool": step_up[0] if step_up else "",
        "step_up_scope": settings.MCP_OAUTH_STEP_UP_SCOPE,
    }
    return render(request, "oauth/consent.html", context)
