"""Test doubles: an injected clock, and a fake CodeDeploy at the gateway.

``FakeClock`` makes a 30-minute rollout run in milliseconds: ``sleep`` advances time
at once and fires whatever the test scheduled with ``at`` (an alarm flipping, someone
moving the alias, a cancellation) as the time passes.

``FakeCodeDeploy`` stands in for ``deployer.aws.CodeDeployGateway`` because moto's
CodeDeploy creates deployments that never progress. Each ``deployment()`` read
advances one status along AWS's lifecycle for Lambda deployments
(Created -> InProgress -> Succeeded | Failed | Stopped). Like the real service it moves
the alias itself: to the target on success, back to the current version on a rollback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from deployer.aws import DeploymentStatus


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.start = datetime.now(UTC)
        self.sleeps: list[float] = []
        self._scheduled: list[tuple[float, Callable[[], None]]] = []

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)

    def at(self, seconds: float, action: Callable[[], None]) -> None:
        self._scheduled.append((seconds, action))
        self._scheduled.sort(key=lambda item: item[0])

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        while self._scheduled and self._scheduled[0][0] <= self.t:
            _, action = self._scheduled.pop(0)
            action()


@dataclass
class FakeCodeDeploy:
    lambda_client: Any
    outcome: str = "Succeeded"  # or "Failed" (rolled back by CodeDeploy) or "Stopped"
    created: list[dict[str, Any]] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    reads: int = 0
    groups: set[tuple[str, str]] = field(default_factory=lambda: {("orders-app", "orders-group")})

    def check_group(self, application: str, group: str) -> None:
        from deployer.errors import DeployError

        if (application, group) not in self.groups:
            raise DeployError.of(
                f"reading the CodeDeploy deployment group failed: DeploymentGroupDoesNotExistException: {group}", "codedeploy"
            )

    def create_deployment(self, application: str, group: str, config_name: str, appspec: str, description: str) -> str:
        self.created.append(
            {"application": application, "group": group, "config": config_name, "appspec": json.loads(appspec), "description": description}
        )
        return f"d-FAKE{len(self.created)}"

    def _properties(self) -> dict[str, str]:
        (resource,) = self.created[-1]["appspec"]["Resources"]
        return dict(next(iter(resource.values()))["Properties"])

    def deployment(self, deployment_id: str) -> DeploymentStatus:
        self.reads += 1
        if self.stopped:
            return DeploymentStatus("Stopped", "stopped by the user", True, "rolled back after StopDeployment")
        lifecycle = ["Created", "InProgress", "InProgress", self.outcome]
        status = lifecycle[min(self.reads - 1, len(lifecycle) - 1)]
        if status in ("Succeeded", "Failed", "Stopped") and self.reads == len(lifecycle):
            spec = self._properties()
            version = spec["TargetVersion"] if status == "Succeeded" else spec["CurrentVersion"]
            self.lambda_client.update_alias(
                FunctionName=spec["Name"], Name=spec["Alias"], FunctionVersion=version, RoutingConfig={"AdditionalVersionWeights": {}}
            )
        if status == "Failed":
            return DeploymentStatus(
                "Failed", "The deployment failed because alarm orders-errors was in ALARM", True, "Rolled back by d-FAKE-RB"
            )
        return DeploymentStatus(status, "", False, "")

    def stop(self, deployment_id: str) -> None:
        self.stopped.append(deployment_id)
