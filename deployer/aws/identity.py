"""Who the credentials are: the account they act in (STS GetCallerIdentity), asked once."""

from __future__ import annotations

import threading
from typing import Any

from .errors import translated


class IdentityGateway:
    def __init__(self, client: Any) -> None:
        self._sts = client  # a LazyClient: made (and counted) only if the account is asked for
        self._account = ""
        self._lock = threading.Lock()

    def account(self) -> str:
        with self._lock:
            if not self._account:
                with translated("reading which account the credentials act in", "the AWS credentials"):
                    self._account = str(self._sts.get_caller_identity()["Account"])
            return self._account
