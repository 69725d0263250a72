"""Multi round-trip requests (2026-07-28): input a tool asks for, and the state that carries it.

In the stateless era a server never sends a request to the client. A tool that needs
sampling, elicitation or roots instead ends the request with an ``InputRequiredResult``
(``inputRequests`` plus ``requestState``); the client answers each input request and retries
the same call with ``inputResponses`` and the echoed ``requestState``. Tools do not see the
difference: they call ``Context.ask_client`` as in the session era, and ``Inputs`` either
returns the answer the retry carried or stops the tool with ``InputRequired``. A retry runs
the tool again from the start, so the answers of earlier rounds travel inside the state.

``requestState`` is attacker-controlled, so it is authenticated: HMAC-SHA256 under a server
key (``MCP_STATE_KEY``, else a random key kept in the store, shared by every process) over a
payload that binds it to the call (method, tool/prompt/resource name, a digest of the
arguments), to the caller (principal), to an expiry, and to a one-time nonce. Guarantees:
- a state that was altered, belongs to another call or caller, or has expired is refused
  (``InvalidParams``, -32602);
- a state is accepted once: the nonce is claimed in the store, so a replayed state is refused;
- the server only asks for capabilities the client declared in this request's ``_meta``
  (``MissingClientCapability``, -32021, otherwise).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from django.conf import settings

from mcp.errors import InvalidParams, MissingClientCapability
from mcp.wire import jsonrpc

if TYPE_CHECKING:
    from mcp.store import SessionStore

# Which client capability each input request needs.
REQUIRED_CAPABILITY = {
    "sampling/createMessage": "sampling",
    "elicitation/create": "elicitation",
    "roots/list": "roots",
}
# Methods whose results may be an InputRequiredResult (2026-07-28 basic/patterns/mrtr).
INPUT_METHODS = frozenset({"tools/call", "prompts/get", "resources/read"})

STATE_VERSION = 1
MAX_STATE_BYTES = 64 * 1024
NONCE_NAMESPACE = "mrtr-nonce"


class InputRequired(Exception):
    """Raised inside a tool: the request ends with an InputRequiredResult asking for these."""

    def __init__(self, requests: dict[str, dict[str, Any]]) -> None:
        super().__init__(", ".join(requests))
        self.requests = requests


async def state_key(store: SessionStore) -> bytes:
    """``MCP_STATE_KEY``, else a key shared through the store, so any process (node) verifies
    a state that another minted, whatever each one's own secret key is."""
    configured = settings.MCP_STATE_KEY
    if configured:
        return configured.encode()
    return await store.shared_secret("mrtr-request-state")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def binding(method: str, params: dict[str, Any]) -> str:
    """What a state is bound to: the method, its target and a digest of its arguments."""
    target = params.get("name") if method != "resources/read" else params.get("uri")
    arguments = params.get("arguments") or {}
    digest = hashlib.sha256(jsonrpc.encode([method, target, arguments])).hexdigest()[:32]
    return f"{method}|{digest}"


@dataclass(slots=True)
class Inputs:
    """The answers a retried request carries, and the input requests a tool adds."""

    binding: str
    principal: str | None
    capabilities: dict[str, Any]
    key: bytes = b""
    answers: dict[str, Any] = field(default_factory=dict)
    asked: dict[str, dict[str, Any]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    _sequence: int = 0

    def next_key(self) -> str:
        self._sequence += 1
        return f"input-{self._sequence}"

    def declared(self, capability: str) -> bool:
        return isinstance(self.capabilities.get(capability), dict)

    def take(self, key: str, method: str, params: dict[str, Any] | None) -> dict[str, Any] | None:
        """The client's answer to input ``key``, or None after recording the request for it."""
        capability = REQUIRED_CAPABILITY.get(method)
        if capability and not self.declared(capability):
            raise MissingClientCapability(capability)
        answer = self.answers.get(key)
        if isinstance(answer, dict):
            self.used.add(key)
            return answer
        request: dict[str, Any] = {"method": method}
        if params is not None:
            request["params"] = params
        self.asked[key] = request
        return None

    def answer(self, key: str, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        found = self.take(key, method, params)
        if found is None:
            raise InputRequired(dict(self.asked))
        return found

    async def ask(self, key: str, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        """The answer to one input request; InputRequired (ends the request) without it."""
        return self.answer(key, method, params)

    async def ask_all(
        self, requests: dict[str, tuple[str, dict[str, Any] | None]]
    ) -> dict[str, dict[str, Any]]:
        """The answers to several input requests; InputRequired for all missing ones at once."""
        answers = {key: self.take(key, method, params) for key, (method, params) in requests.items()}
        if any(answer is None for answer in answers.values()):
            raise InputRequired(dict(self.asked))
        return {key: answer for key, answer in answers.items() if answer is not None}

    def seal(self, trace: str | None = None) -> str:
        """A fresh requestState carrying the answers the tool used (never the same string twice)
        and, when the round was traced, its span as a W3C ``traceparent``."""
        payload = {
            "v": STATE_VERSION,
            "b": self.binding,
            "p": self.principal or "",
            "x": int(time.time() + settings.MCP_STATE_TTL),
            "n": secrets.token_urlsafe(12),
            "a": {key: self.answers[key] for key in sorted(self.used)},
        }
        if trace:
            payload["t"] = trace
        body = _b64(jsonrpc.encode(payload))
        signature = _b64(hmac.new(self.key, body.encode(), hashlib.sha256).digest())
        return f"{body}.{signature}"


def _refused(why: str) -> InvalidParams:
    return InvalidParams(f"Invalid params: requestState {why}", data={"reason": why})


def open_state(state: str, *, key: bytes, binding: str, principal: str | None) -> tuple[dict[str, Any], str]:
    """(the earlier answers, the nonce) of an authentic state for this call; -32602 otherwise."""
    if len(state) > MAX_STATE_BYTES or state.count(".") != 1:
        raise _refused("is malformed")
    body, signature = state.split(".")
    try:
        given = _unb64(signature)
    except (binascii.Error, ValueError):
        raise _refused("failed its integrity check") from None
    expected = hmac.new(key, body.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise _refused("failed its integrity check")
    try:
        payload = orjson.loads(_unb64(body))
    except (ValueError, binascii.Error):
        raise _refused("is malformed") from None
    if not isinstance(payload, dict) or payload.get("v") != STATE_VERSION:
        raise _refused("is malformed")
    if payload.get("b") != binding:
        raise _refused("belongs to another request")
    if payload.get("p") != (principal or ""):
        raise _refused("belongs to another caller")
    if not isinstance(payload.get("x"), int) or payload["x"] < time.time():
        raise _refused("has expired")
    answers = payload.get("a")
    nonce = payload.get("n")
    if not isinstance(answers, dict) or not isinstance(nonce, str):
        raise _refused("is malformed")
    return answers, nonce


async def inputs_for(
    store: SessionStore,
    method: str,
    params: dict[str, Any],
    *,
    principal: str | None,
    capabilities: dict[str, Any],
) -> Inputs:
    """The Inputs of a request: answers from its (verified, first-use) state and inputResponses."""
    inputs = Inputs(binding(method, params), principal, capabilities, await state_key(store))
    state = params.get("requestState")
    if state is not None:
        if not isinstance(state, str):
            raise InvalidParams("Invalid params: requestState must be a string")
        answers, nonce = open_state(state, key=inputs.key, binding=inputs.binding, principal=principal)
        if not await store.claim_once(NONCE_NAMESPACE, nonce, settings.MCP_STATE_TTL):
            raise _refused("was already used")
        inputs.answers.update(answers)
    responses = params.get("inputResponses")
    if responses is not None:
        if not isinstance(responses, dict):
            raise InvalidParams("Invalid params: inputResponses must be an object")
        inputs.answers.update({k: v for k, v in responses.items() if isinstance(v, dict)})
    return inputs


def input_required_result(inputs: Inputs, trace: str | None = None) -> dict[str, Any]:
    """The InputRequiredResult for what the tool asked and has no answer to yet; ``trace``
    (the round's span) travels in the state, so the retry joins the trace on any node."""
    return {
        "resultType": "input_required",
        "inputRequests": dict(inputs.asked),
        "requestState": inputs.seal(trace),
    }


MAX_TRACE = 128


def peek_trace(state: Any) -> str | None:
    """The ``traceparent`` a requestState carries, read without verifying the state.

    Unverified on purpose: it only chooses the parent of the retry's span (before the state
    is checked), a choice any client makes anyway through ``params._meta``; nothing is done
    with the state itself before ``open_state`` verifies it.
    """
    if not isinstance(state, str) or len(state) > MAX_STATE_BYTES or state.count(".") != 1:
        return None
    try:
        payload = orjson.loads(_unb64(state.split(".", 1)[0]))
    except (ValueError, binascii.Error):
        return None
    trace = payload.get("t") if isinstance(payload, dict) else None
    return trace if isinstance(trace, str) and len(trace) <= MAX_TRACE else None
