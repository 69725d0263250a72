"""The official Python SDK's OAuth client provider against the embedded authorization server.

Usage: python oauth_client.py SCENARIO_JSON. Runs in the SDK's own virtualenv. The provider
starts from a bare 401 and does everything itself (discovery, registration, PKCE, token,
refresh, step-up); this script only supplies what an application supplies: in-memory token
storage, a redirect handler that follows the authorization URL over HTTP (the server's
automatic consent answers with a redirect to our callback, which is read from the Location
header instead of a browser), and the callback handler that hands the code back.

Scenario keys: url, login_hint, misbehave (appended to the first ``misbehave_times``
authorization URLs; 0 = all), calls ([{"tool", "args"}] or {"sleep": seconds}),
client_metadata_url (use a Client ID Metadata Document instead of registration).
Prints one JSON line: what the client saw (results, the error it ended with), and the
tokens it held, for the test to look for in the server's log.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from mcp import ClientSession

TIMEOUT = 90.0
CALLBACK = "http://127.0.0.1:9/callback"


class MemoryStorage(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None
        self.issued: list[dict[str, Any]] = []

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.issued.append(tokens.model_dump(mode="json"))

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Browser:
    """Follows the authorization URL like a browser would, up to the redirect to the client."""

    def __init__(self, scenario: dict[str, Any]) -> None:
        self.scenario = scenario
        self.authorizations: list[dict[str, Any]] = []
        self.pending: dict[str, list[str]] = {}

    async def redirect(self, authorization_url: str) -> None:
        extra: dict[str, str] = {}
        if self.scenario.get("login_hint"):
            extra["login_hint"] = self.scenario["login_hint"]
        times = int(self.scenario.get("misbehave_times", 1))
        if self.scenario.get("misbehave") and (times == 0 or len(self.authorizations) < times):
            extra["misbehave"] = self.scenario["misbehave"]
        url = authorization_url + ("&" + urlencode(extra) if extra else "")
        sent = parse_qs(urlsplit(authorization_url).query)
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.get(url)
        location = response.headers.get("location", "")
        self.pending = parse_qs(urlsplit(location).query)
        self.authorizations.append(
            {
                "status": response.status_code,
                "scope": sent.get("scope", [None])[0],
                "resource": sent.get("resource", [None])[0],
                "misbehave": extra.get("misbehave"),
                "error": self.pending.get("error", [None])[0],
                "has_code": "code" in self.pending,
                "state_matches": self.pending.get("state") == sent.get("state"),
            }
        )

    async def callback(self) -> tuple[str, str | None]:
        if "error" in self.pending:
            error = self.pending["error"][0]
            description = self.pending.get("error_description", [""])[0]
            raise PermissionError(f"authorization failed: {error} {description}".strip())
        return self.pending.get("code", [""])[0], self.pending.get("state", [None])[0]


def leaf_errors(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaf_errors(inner)]
    return [exc]


def texts(result: Any) -> list[str]:
    return [block.text for block in result.content if getattr(block, "type", None) == "text"]


async def run(scenario: dict[str, Any], outcome: dict[str, Any]) -> None:
    storage = MemoryStorage()
    browser = Browser(scenario)
    outcome["storage"] = storage
    outcome["browser"] = browser
    provider = OAuthClientProvider(
        server_url=scenario["url"],
        client_metadata=OAuthClientMetadata(
            client_name="e2e python oauth client",
            redirect_uris=[CALLBACK],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method=scenario.get("auth_method", "none"),
        ),
        storage=storage,
        redirect_handler=browser.redirect,
        callback_handler=browser.callback,
        client_metadata_url=scenario.get("client_metadata_url"),
    )
    async with (
        streamablehttp_client(scenario["url"], auth=provider) as (read, write, get_session_id),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        outcome["sessionId"] = get_session_id()
        for call in scenario.get("calls", []):
            if "sleep" in call:
                await asyncio.sleep(call["sleep"])
                continue
            result = await session.call_tool(call["tool"], call.get("args", {}))
            outcome["results"].append(
                {"tool": call["tool"], "isError": bool(result.isError), "texts": texts(result)}
            )
        outcome["finalSessionId"] = get_session_id()


def main() -> None:
    scenario = json.loads(sys.argv[1])
    outcome: dict[str, Any] = {"sdk": "python", "results": [], "error": None}
    started = time.monotonic()
    try:
        asyncio.run(asyncio.wait_for(run(scenario, outcome), TIMEOUT))
    except BaseException as exc:  # what the client ended with is the point of the test
        outcome["error"] = [
            {"type": type(leaf).__name__, "message": str(leaf)[:500]} for leaf in leaf_errors(exc)
        ]
    storage = outcome.pop("storage", None)
    browser = outcome.pop("browser", None)
    outcome["issued"] = storage.issued if storage else []
    outcome["clientId"] = storage.client.client_id if storage and storage.client else None
    outcome["authorizations"] = browser.authorizations if browser else []
    outcome["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
