"""Small HTTP helpers shared by the webhook endpoints."""
from __future__ import annotations

import re

from fastapi import Request


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, refusing (without reading it all) a body over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def storable(value):
    """What a database text or JSON column can hold: NUL is dropped (it never means anything in a
    message), and a lone surrogate (valid as a JSON escape, not as text) becomes U+FFFD. Refusing
    them instead would have LINE redeliver the event forever."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value.replace("\x00", ""))
    if isinstance(value, list):
        return [storable(v) for v in value]
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    return value


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
