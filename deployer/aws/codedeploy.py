"""CodeDeploy: deployment groups, deployments created from AppSpec content (with automatic
rollback, and the action's alarms), their status and their rollback deployment, and stops."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import (
    ClientError,
)

from .errors import error_code, translated

TERMINAL_DEPLOYMENT_STATES = ("Succeeded", "Failed", "Stopped")
# A deployment in one of these holds its group: CodeDeploy runs one deployment per group at a time.
ACTIVE_DEPLOYMENT_STATES = ("Created", "Queued", "InProgress", "Baking", "Ready")
# What a deployment created by lambda-deploy rolls back on (CreateDeployment's autoRollbackConfiguration).
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST")


@dataclass(frozen=True)
class DeploymentStatus:
    status: str  # Created | Queued | InProgress | Baking | Ready | Succeeded | Failed | Stopped
    error: str
    rollback_id: str  # the deployment CodeDeploy started to roll this one back; "" when none
    rollback_message: str

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_DEPLOYMENT_STATES


@dataclass(frozen=True)
class ActiveDeployment:
    """A deployment that holds its group, and where to see it."""

    id: str
    status: str
    region: str

    @property
    def console_url(self) -> str:
        return f"https://{self.region}.console.aws.amazon.com/codesuite/codedeploy/deployments/{self.id}?region={self.region}"

    def describe(self) -> str:
        return f"CodeDeploy deployment {self.id} ({self.status}, {self.console_url})"


@dataclass(frozen=True)
class DeploymentGroup:
    compute_platform: str  # Server | Lambda | ECS
    rollback_events: tuple[str, ...]  # the group's own automatic rollback; () when it has none


class CodeDeployGateway:
    """CodeDeploy deployments of a Lambda alias (AppSpec content, no S3 bundle)."""

    def __init__(self, client: Any) -> None:
        self._codedeploy = client  # a LazyClient: it joins the call log when it is made

    def group(self, application: str, group: str) -> DeploymentGroup:
        with translated(
            "reading the CodeDeploy deployment group", f"inputs 'codedeploy-application' / 'codedeploy-group' ({application}/{group})"
        ):
            info = self._codedeploy.get_deployment_group(applicationName=application, deploymentGroupName=group)["deploymentGroupInfo"]
        rollback = info.get("autoRollbackConfiguration") or {}
        return DeploymentGroup(
            compute_platform=str(info.get("computePlatform", "")),
            rollback_events=tuple(rollback.get("events") or ()) if rollback.get("enabled") else (),
        )

    def active(self, application: str, group: str) -> tuple[ActiveDeployment, ...]:
        """The deployments that hold the group now (ListDeployments by the active statuses)."""
        where = f"inputs 'codedeploy-application' / 'codedeploy-group' ({application}/{group})"
        with translated("listing the group's active CodeDeploy deployments", where):
            pages = self._codedeploy.get_paginator("list_deployments").paginate(
                applicationName=application, deploymentGroupName=group, includeOnlyStatuses=list(ACTIVE_DEPLOYMENT_STATES)
            )
            ids = [deployment for page in pages for deployment in page.get("deployments", [])]
        region = str(self._codedeploy.meta.region_name)
        return tuple(ActiveDeployment(deployment, self.deployment(deployment).status, region) for deployment in ids)

    def create_deployment(
        self, application: str, group: str, config_name: str, appspec: str, description: str, alarms: Sequence[str] = ()
    ) -> str:
        """A deployment that rolls back by itself on failure, on an alarm and on a stop; with
        ``alarms``, those replace the group's alarms for this deployment (which needs
        ``codedeploy:UpdateDeploymentGroup``, CodeDeploy's API reference says)."""
        revision = {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": appspec, "sha256": hashlib.sha256(appspec.encode()).hexdigest()},
        }
        extra: dict[str, Any] = {"autoRollbackConfiguration": {"enabled": True, "events": list(ROLLBACK_EVENTS)}}
        if alarms:
            extra["overrideAlarmConfiguration"] = {"enabled": True, "alarms": [{"name": name} for name in alarms]}
        with translated("creating the CodeDeploy deployment", f"deployment group '{group}'"):
            answer = self._codedeploy.create_deployment(
                applicationName=application,
                deploymentGroupName=group,
                deploymentConfigName=config_name,
                revision=revision,
                description=description,
                **extra,
            )
        return str(answer["deploymentId"])

    def deployment(self, deployment_id: str) -> DeploymentStatus:
        with translated("reading the CodeDeploy deployment", f"deployment {deployment_id}"):
            info = self._codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        rollback = info.get("rollbackInfo") or {}
        return DeploymentStatus(
            status=str(info.get("status", "")),
            error=str((info.get("errorInformation") or {}).get("message", "")),
            rollback_id=str(rollback.get("rollbackDeploymentId") or ""),
            rollback_message=str(rollback.get("rollbackMessage", "")),
        )

    def stop(self, deployment_id: str) -> None:
        """StopDeployment with automatic rollback; one that has already ended is left as it is."""
        with translated("stopping the CodeDeploy deployment", f"deployment {deployment_id}"):
            try:
                self._codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
            except ClientError as error:
                if error_code(error) != "DeploymentAlreadyCompletedException":
                    raise
