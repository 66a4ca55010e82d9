"""A downstream's authentication (``DownstreamSpec.auth``): OAuth access tokens or an API key.

oauth: ``POST token_path`` (a form or JSON body, grant ``client_credentials`` or
``refresh_token``) issues an access token valid ``lifetime`` scenario seconds — on the run's
clock ``lifetime`` times the time scale, in real seconds, which is what ``expires_in`` tells
the automation, since it lives in real time. Any client id and secret are accepted: the double
stands for the API, not for its client registry. Every other call needs ``Authorization:
Bearer TOKEN`` with a token still live, else 401 with ``WWW-Authenticate: Bearer
error="invalid_token"``. The tokens a downstream issued stay known for as long as the harness
process lives (``issued``): the API does not forget them when a run ends, so a token the
automation got during the clean run, or in a year's earlier month, works in the next run until
it expires — on the machine's monotonic clock, the clock the automation lives by. A run whose
lifetime is shorter than an earlier run's caps the earlier tokens at one lifetime from its start
(a year's token-expiry: long-lived tokens until then).

api-key: every call needs the key held by the environment variable ``key_env`` in ``header``
(the key alone, or ``Bearer KEY``); from ``rotate_at`` (scenario seconds, scaled) only the key
of ``next_key_env``.

Keys and tokens never reach the journal: token calls are kept as ``token`` marks that hold the
grant and the answer's status only, and a double with auth redacts credentials in the headers
of the effects it records (``_forward.journal_headers``).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from ..core._errors import InputError
from ..core._model import JSON
from ..core._scenario import AuthSpec

TOKEN_MARK = "token"
"""The Mark of a call to a double's token endpoint (detail: JSON ``{"downstream", "grant",
"status", "expires_in"}``, never a token): not an effect, since no event caused it."""

CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
GRANTS = ("client_credentials", "refresh_token")


class Tokens:
    """The access and refresh tokens one downstream issued, with when each access token dies
    (``time.monotonic()``)."""

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}
        self._refresh: set[str] = set()

    def issue(self, lifetime: float) -> tuple[str, str]:
        """A new (access token, refresh token), the access token live ``lifetime`` s."""
        now = time.monotonic()
        # Dead tokens are forgotten as new ones come: a year issues thousands.
        for token in [t for t, dies in self._expiry.items() if dies <= now]:
            del self._expiry[token]
        access, refresh = f"hat_{secrets.token_urlsafe(24)}", f"hrt_{secrets.token_urlsafe(24)}"
        self._expiry[access] = now + lifetime
        self._refresh.add(refresh)
        return access, refresh

    def cap(self, dies: float) -> None:
        """No token issued so far lives past ``dies``: the API shortened its tokens' lifetime."""
        for token, until in self._expiry.items():
            if until > dies:
                self._expiry[token] = dies

    def knows_refresh(self, token: str) -> bool:
        return token in self._refresh

    def why_not_live(self, token: str) -> str | None:
        """None for a live access token, else why it is not."""
        dies = self._expiry.get(token)
        if dies is None:
            return "the access token is not one this API issued (or it expired long ago)"
        if dies <= time.monotonic():
            return "the access token expired"
        return None


_ISSUED: dict[str, Tokens] = {}


def issued(downstream: str) -> Tokens:
    """The tokens downstream ``downstream`` has issued in this process (see the module's text)."""
    found = _ISSUED.get(downstream)
    if found is None:
        found = _ISSUED[downstream] = Tokens()
    return found


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    status: int
    body: dict[str, JSON]
    grant: str


class Gate:
    """The authentication of one double: answers token calls, refuses unauthenticated ones.

    ``scale``: run seconds per scenario second; ``where`` names the downstream in errors.
    Raises InputError for an api-key whose environment variable holds nothing.
    """

    def __init__(
        self,
        spec: AuthSpec,
        *,
        scale: float,
        tokens: Tokens,
        where: str,
        env: Mapping[str, str] = os.environ,
    ) -> None:
        self.spec = spec
        self._scale = scale
        self._tokens = tokens
        self.header = spec.header
        self._key = self._next_key = ""
        self._rotate_at = math.inf
        if spec.kind == "oauth":
            # Tokens of an earlier run under a longer lifetime (a year's months before the
            # token-expiry) live at most one lifetime from now; a no-op for tokens already
            # issued under this one.
            tokens.cap(time.monotonic() + self.lifetime)
        if spec.kind == "api-key":
            self._key = _key(env, spec.key_env, where)
            if spec.next_key_env is not None:
                self._next_key = _key(env, spec.next_key_env, where)
                self._rotate_at = (spec.rotate_at or 0.0) * scale

    @property
    def lifetime(self) -> float:
        """An access token's lifetime in run (real) seconds."""
        return self.spec.lifetime * self._scale

    def is_token_call(self, method: str, path: str) -> bool:
        return self.spec.kind == "oauth" and method == "POST" and path == self.spec.token_path

    def token(self, text: str) -> TokenAnswer:
        """The answer to a token call with body ``text`` (form or JSON)."""
        form = _form(text)
        grant = form.get("grant_type", "")
        if grant not in GRANTS:
            return TokenAnswer(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": f"grant_type must be one of {', '.join(GRANTS)}",
                },
                grant or "none",
            )
        if grant == "refresh_token" and not self._tokens.knows_refresh(
            form.get("refresh_token", "")
        ):
            return TokenAnswer(
                400,
                {"error": "invalid_grant", "error_description": "unknown refresh_token"},
                grant,
            )
        access, refresh = self._tokens.issue(self.lifetime)
        body: dict[str, JSON] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": expires_in(self.lifetime),
            "refresh_token": refresh,
        }
        return TokenAnswer(200, body, grant)

    def refusal(self, headers: Mapping[str, str], at: float) -> str | None:
        """None when the call carries a valid credential; else why not (the 401's text)."""
        given = _header(headers, self.header)
        if self.spec.kind == "oauth":
            scheme, _, token = (given or "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return f"no bearer token in {self.header}: get one from POST {self.spec.token_path}"
            why = self._tokens.why_not_live(token.strip())
            return None if why is None else f"{why}: get a new one from POST {self.spec.token_path}"
        key = self._next_key if at >= self._rotate_at else self._key
        presented = (given or "").strip()
        if presented.lower().startswith("bearer "):
            presented = presented[7:].strip()
        if not presented:
            return f"no API key in {self.header}"
        if not secrets.compare_digest(presented.encode(), key.encode()):
            rotated = " (the key was rotated)" if at >= self._rotate_at else ""
            return f"the API key in {self.header} is not valid{rotated}"
        return None


def expires_in(lifetime: float) -> int | float:
    """Seconds as a token answer says them: whole when whole, else to the millisecond (a run
    scaled 1:10,000 gives an hour's token 0.36 s)."""
    return int(lifetime) if lifetime == int(lifetime) else round(lifetime, 3)


def token_mark(downstream: str, answer: TokenAnswer) -> str:
    """A token call as the journal keeps it: never the token."""
    detail: dict[str, JSON] = {
        "downstream": downstream,
        "grant": answer.grant,
        "status": answer.status,
    }
    if answer.status == 200:
        detail["expires_in"] = answer.body["expires_in"]
    else:
        detail["error"] = answer.body["error"]
    return json.dumps(detail)


def _form(text: str) -> dict[str, str]:
    """A token request's fields: a JSON object's string values, else the form's."""
    try:
        parsed = json.loads(text) if text.lstrip().startswith("{") else None
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, dict):
        return {k: v for k, v in parsed.items() if isinstance(v, str)}
    return dict(parse_qsl(text, keep_blank_values=True))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lname = name.lower()
    for k, v in headers.items():
        if k.lower() == lname:
            return v
    return None


def _key(env: Mapping[str, str], name: str, where: str) -> str:
    key = env.get(name, "")
    if not key:
        raise InputError(
            f"the environment variable {name} holds no API key",
            where=f"{where}: auth",
            hint=f"export {name} with the key the automation sends (the double accepts only "
            "it), or remove auth: from the downstream",
        )
    return key
