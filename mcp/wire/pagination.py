"""Opaque, stable cursors for list methods (pure)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, TypeVar

from mcp.errors import InvalidParams

T = TypeVar("T")


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: Any) -> int:
    if cursor is None:
        return 0
    if not isinstance(cursor, str) or len(cursor) > 64:
        raise InvalidParams("Invalid params: cursor must be a string this server issued")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    prefix, _, number = raw.partition(":")
    if prefix != "o" or not (number.isascii() and number.isdigit()):
        raise InvalidParams("Invalid params: unknown cursor")
    return int(number)


def paginate(items: Sequence[T], cursor: Any, page_size: int) -> tuple[list[T], str | None]:
    """One page from ``cursor`` and the cursor of the next page (None at the end)."""
    start = decode_cursor(cursor)
    if start > len(items):
        raise InvalidParams("Invalid params: cursor is past the end of the list")
    end = start + page_size
    return list(items[start:end]), (encode_cursor(end) if end < len(items) else None)
