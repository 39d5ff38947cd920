"""Standard Webhooks signatures: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`."""

from __future__ import annotations

import base64
import hashlib
import hmac


def signature_header(keys: tuple[bytes, ...], event_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one `v1,` signature per key, space-separated (several
    while a secret is replaced, so that a receiver holding either accepts the delivery)."""
    signed = b"%s.%d.%s" % (event_id.encode(), timestamp, body)
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        for key in keys
    )
