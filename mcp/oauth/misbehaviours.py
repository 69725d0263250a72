"""The misbehaviours the embedded authorization server can show on purpose (pure; no Django).

Each one is chosen per client (the admin, or MCP_OAUTH_MISBEHAVIOURS for every client) or per
authorization (the ``misbehave`` parameter of the authorization request, or the boxes of the
consent page), and is recorded on the authorization code and the tokens issued from it. The
registry below is the single list: the consent page, the admin, the README and the
validation of settings all read it.

A value is a name, or ``step_up:<tool>`` for the one misbehaviour that takes an argument.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True, slots=True)
class Misbehaviour:
    name: str
    where: str
    what: str
    correct_client: str


REGISTRY: tuple[Misbehaviour, ...] = (
    Misbehaviour(
        "deny",
        "authorization",
        "the user denies: the redirect carries error=access_denied (and the client's state)",
        "stops and reports the denial; does not call the token endpoint or retry in a loop",
    ),
    Misbehaviour(
        "wrong_state",
        "authorization",
        "the redirect carries a valid code but a state the client did not send",
        "rejects the response (possible CSRF) and never redeems the code",
    ),
    Misbehaviour(
        "invalid_code",
        "authorization",
        "the redirect carries a code this server never issued",
        "gets invalid_grant from the token endpoint and reports it; no retry loop",
    ),
    Misbehaviour(
        "reused_code",
        "authorization",
        "the redirect carries a code that counts as already redeemed",
        "gets invalid_grant ('already used') and reports it; no retry loop",
    ),
    Misbehaviour(
        "wrong_audience",
        "token",
        "every access token of the authorization names another resource in aud",
        "gets 401 invalid_token from /mcp; re-authorizes at most a few times, then fails",
    ),
    Misbehaviour(
        "expired_token",
        "token",
        "the first access token is already expired although expires_in says otherwise",
        "gets 401 invalid_token; refreshes (or re-authorizes) once and retries",
    ),
    Misbehaviour(
        "missing_scope",
        "token",
        "every access token of the authorization lacks the required scope",
        "gets 403 insufficient_scope; re-authorizes with the challenged scope, a bounded number of times",
    ),
    Misbehaviour(
        "step_up",
        "resource",
        "step_up:<tool>: calling <tool> needs the step-up scope (403 insufficient_scope)",
        "re-authorizes with the scope of the challenge and retries the call once",
    ),
    Misbehaviour(
        "refresh_fails",
        "token",
        "every refresh of the authorization's tokens answers invalid_grant",
        "drops its tokens and starts a new authorization instead of retrying the refresh",
    ),
)
BY_NAME = {item.name: item for item in REGISTRY}


def parse(value: str) -> str:
    """One misbehaviour, normalized; ValueError with a readable message otherwise."""
    value = value.strip()
    name, _, argument = value.partition(":")
    item = BY_NAME.get(name)
    if item is None:
        raise ValueError(f"unknown misbehaviour {value[:60]!r}; known: {', '.join(BY_NAME)}")
    if name == "step_up":
        if not argument or len(argument) > 128 or not argument.isprintable():
            raise ValueError("step_up needs a tool name: step_up:<tool>")
        return f"step_up:{argument}"
    if argument:
        raise ValueError(f"misbehaviour {name!r} takes no argument")
    return name


def parse_all(values: list[str], setting: str | None = None) -> list[str]:
    """Normalized, deduplicated, in order; ImproperlyConfigured naming ``setting`` if given."""
    parsed: list[str] = []
    for value in values:
        if not value.strip():
            continue
        try:
            item = parse(value)
        except ValueError as exc:
            if setting:
                raise ImproperlyConfigured(f"{setting}: {exc}") from None
            raise
        if item not in parsed:
            parsed.append(item)
    return parsed


def has(values: list[str], name: str) -> bool:
    return any(value == name or value.startswith(name + ":") for value in values)


def step_up_tools(values: list[str]) -> list[str]:
    return [value.partition(":")[2] for value in values if value.startswith("step_up:")]
