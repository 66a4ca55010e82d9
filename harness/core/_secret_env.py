"""The names of the environment variables that hold signing secrets — never a secret itself.

A flag or a file takes the *name* of the variable (``STRIPE_WEBHOOK_SECRET``); the secret stays
in the environment. Names are upper case, as such variables are named, so that a secret pasted
in by mistake (mixed case, base64) never passes for a name — and is never echoed back whole.
"""

from __future__ import annotations

import re

from ._errors import InputError

ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
NEXT_SUFFIX = "_NEXT"


def next_secret_env(secret_env: str) -> str:
    """The variable a signing-secret rotation's next secret is in: the secret's with ``_NEXT``
    (``STRIPE_WEBHOOK_SECRET_NEXT``, ``HARNESS_SECRET_NEXT``)."""
    return secret_env + NEXT_SUFFIX


def shape(value: str) -> str:
    """A value that may be a secret pasted by mistake: its shape, not its content."""
    return repr(value) if len(value) <= 4 else repr(value[:2] + "…") + f" ({len(value)} chars)"


def check_secret_env(name: str, where: str, example: str = "STRIPE_WEBHOOK_SECRET") -> str:
    """``name`` when it names an environment variable; an InputError showing only its shape."""
    if not ENV_NAME.fullmatch(name):
        raise InputError(
            f"{shape(name)} is not an environment variable name",
            where=where,
            hint=f"give the NAME of the variable that holds the secret, in upper case like "
            f"{example}, and export the secret in it — never the secret itself",
        )
    return name
