"""mcp.redact.redact_text: each kind of credential is masked, and text that only looks
suspicious (a tool named bearerDecode) comes back unchanged."""

from __future__ import annotations

import pytest

from mcp.redact import redact_text

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abcdef123456789", "abcdef123456789"),
        ("connect redis://user:hunter2@host:6379/0", "hunter2"),
        (f"got {JWT} from the client", JWT),
        ("password=swordfish&next=1", "swordfish"),
        ('{"api_key": "k-123456789"}', "k-123456789"),
        ('{"arguments": {"password": "swordfish"}}', "swordfish"),
        ("TOKEN: abcdefghij", "abcdefghij"),
    ],
)
def test_credentials_are_masked(text: str, secret: str) -> None:
    shown = redact_text(text)
    assert secret not in shown and ("redacted" in shown or "***" in shown)


@pytest.mark.parametrize(
    "text",
    [
        "printHeader, bearerDecode, authContext and requestTiming show what your client sent.",
        '{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"hi"}]}}',
        "see https://example.com/docs for the API",
    ],
)
def test_harmless_text_is_unchanged(text: str) -> None:
    assert redact_text(text) == text
