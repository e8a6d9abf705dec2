"""Which values to mask in the job log (pure).

Contract: ``values_to_mask(environment, tokens)`` returns the values the runner must hide
before anything is printed. Masking is a blunt tool: the runner replaces *every* later
occurrence of a masked value with ``***``, so masking ``1`` turns ``python3.12`` into
``python3.***2`` for the rest of the job. The rule therefore masks what could be a secret
and never what would garble the log:

- a value whose variable name looks secret (``TOKEN``, ``SECRET``, ``PASSWORD``, ``KEY``,
  ``AUTH``, ``DSN``, ...) is always masked, unless masking it would garble the log and
  hide nothing: fewer than 4 characters, a boolean word or a short number
  (``FEATURE_KEY_VERSION=1``);
- any other value is masked only when it is long enough to be a secret (8 characters) and
  is not plain text: not a word, a number, or words and short numbers joined by
  punctuation (``production``, ``eu-west-1``, ``https://api.example.com/v2``);
- tokens (GitHub's, the OIDC request token, AWS credentials) are always masked.

Environment values are never printed by lambda-deploy whatever this decides; masking is
the second line of defence, for a value that reaches the log some other way (a handler
that echoes its environment in a smoke test's response, say).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|PWD|KEY|CREDENTIAL|PRIVATE|AUTH|DSN|SIGNATURE|COOKIE|SESSION|CERT|SALT",
    re.IGNORECASE,
)
MIN_SECRET_LENGTH = 8
_SEPARATORS = re.compile(r"[\s\-_./:@,=+~#?&%()\[\]]+")
# A segment a person would write: a word, a short number, or a word with a short number (v2, python3).
_PLAIN_SEGMENT = re.compile(r"[A-Za-z]+|[0-9]{1,6}|[A-Za-z]+[0-9]{1,3}|[0-9]{1,3}[A-Za-z]+")


def looks_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def is_plain(value: str) -> bool:
    """Words and short numbers, however joined: text no one would call a secret."""
    segments = [segment for segment in _SEPARATORS.split(value.strip()) if segment]
    return all(_PLAIN_SEGMENT.fullmatch(segment) for segment in segments)


_HARMLESS = frozenset({"true", "false", "yes", "no", "on", "off", "none", "null"})


def would_garble(value: str) -> bool:
    """A value whose mask would hide ordinary text all over the log and protect nothing."""
    text = value.strip()
    return len(text) < 4 or text.lower() in _HARMLESS or bool(re.fullmatch(r"[0-9]{1,6}", text))


def could_be_secret(value: str) -> bool:
    text = value.strip()
    return len(text) >= MIN_SECRET_LENGTH and not is_plain(text)


def values_to_mask(environment: Mapping[str, str] | None, tokens: Iterable[str] = ()) -> tuple[str, ...]:
    chosen = [
        value
        for name, value in (environment or {}).items()
        if (looks_secret_name(name) and not would_garble(value)) or could_be_secret(value)
    ]
    chosen += list(tokens)
    return tuple(dict.fromkeys(value for value in chosen if value.strip()))
