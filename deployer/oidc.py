"""GitHub's OIDC token, for ``role-to-assume``: no AWS keys stored anywhere.

Contract: ``fetch_id_token(request_url, request_token, audience)`` asks the runner's
token endpoint (``ACTIONS_ID_TOKEN_REQUEST_URL`` with ``&audience=``, authorised by
``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` as a bearer token) and returns the JWT it answers
with as ``{"value": ...}``. A 5xx or a dropped connection is retried a few times; what
still fails is a ``DeployError`` that says what to check. The token is a secret: the
caller masks it before anything could print it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import quote

from . import __version__
from .aws import ChainedRole, Identity, WebIdentity
from .errors import DeployError
from .settings import ChainedCredentials, Credentials

ATTEMPTS = 3
PAUSE = 1.0
TIMEOUT = 10.0
WHERE = "input 'role-to-assume'"


def token_url(request_url: str, audience: str) -> str:
    separator = "&" if "?" in request_url else "?"
    return f"{request_url}{separator}audience={quote(audience, safe='')}"


def fetch_id_token(request_url: str, request_token: str, audience: str) -> str:
    request = urllib.request.Request(
        token_url(request_url, audience),
        headers={
            "Authorization": f"Bearer {request_token}",
            "Accept": "application/json; api-version=2.0",
            "User-Agent": f"lambda-deploy/{__version__}",
        },
    )
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                answer = json.loads(response.read().decode("utf-8"))
            break
        except urllib.error.HTTPError as error:
            if error.code < 500 or attempt == ATTEMPTS:
                raise DeployError.of(
                    f"GitHub's OIDC token endpoint answered HTTP {error.code} ({error.reason})",
                    WHERE,
                    "the job needs 'permissions: id-token: write'; pull requests from forks never get a token",
                ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            if attempt == ATTEMPTS:
                raise DeployError.of(f"GitHub's OIDC token endpoint could not be reached: {error}", WHERE) from None
        except ValueError:
            raise DeployError.of("GitHub's OIDC token endpoint did not answer with JSON", WHERE) from None
        time.sleep(PAUSE * attempt)
    value = answer.get("value") if isinstance(answer, dict) else None
    if not isinstance(value, str) or not value:
        raise DeployError.of("GitHub's OIDC token endpoint answered without a token", WHERE)
    return value


def web_identity(oidc: Credentials | None, mask: Callable[[str], None]) -> Identity | None:
    """``role-to-assume``: GitHub's OIDC token, fetched (and masked) whenever botocore needs a new one;
    a role chained from the run's own credentials when there is no token (a wave's other account)."""
    if oidc is None:
        return None
    if isinstance(oidc, ChainedCredentials):
        return ChainedRole(oidc.role_arn, oidc.session_name, oidc.duration)
    mask(oidc.request_token)

    def token() -> str:
        value = fetch_id_token(oidc.request_url, oidc.request_token, oidc.audience)
        mask(value)
        return value

    return WebIdentity(oidc.role_arn, oidc.session_name, oidc.duration, token)
