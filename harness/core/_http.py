"""HTTP facts that forwarding needs, wherever it happens (the capture proxy, a pass-through
double): which headers belong to one connection and are never passed on."""

from __future__ import annotations

from collections.abc import Iterable

from multidict import CIMultiDict

# RFC 9110 7.6.1, and the framing headers the client and the server set themselves.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
# Headers aiohttp's client adds unless told not to: a forwarded request carries only the
# caller's.
CLIENT_ADDS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")


def end_to_end(headers: Iterable[tuple[str, str]], *, also: Iterable[str] = ()) -> CIMultiDict[str]:
    """The headers to pass on: not hop-by-hop, not named by Connection, not in ``also``."""
    pairs = list(headers)
    named = {
        n.strip().lower()
        for k, v in pairs
        if k.lower() == "connection"
        for n in v.split(",")
        if n.strip()
    }
    dropped = HOP_BY_HOP | named | {a.lower() for a in also}
    return CIMultiDict((k, v) for k, v in pairs if k.lower() not in dropped)


def not_added(headers: CIMultiDict[str]) -> list[str]:
    """The headers the client would add that ``headers`` do not have (to skip them)."""
    return [h for h in CLIENT_ADDS if h not in headers]
