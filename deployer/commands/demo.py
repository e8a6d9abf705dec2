"""``demo``: the whole pipeline against an embedded moto server; no AWS account needed (see ``deployer.demo``)."""

from __future__ import annotations

from .base import DONE, FAILED, Report, Request, Spec


def run(request: Request) -> Report:
    from ..demo import run_demo  # noqa: PLC0415 - the demo loads moto: no other command should pay for it

    return Report(DONE if run_demo(request.out) == 0 else FAILED)


SPEC = Spec(
    "deploy a sample function to an embedded moto server, six times (create, unchanged, changed, a canary rolled back by its "
    "alarm, a canary promoted, a canary handed to CodeDeploy); no AWS account needed",
    run,
    inputs=(),
    json=False,
)
