"""Read-only checks of what a run will rely on, before anything moves (the engine's last step before planning).

Contract: ``preflight(settings, services, io)`` raises ``DeployError`` for what would fail
later or blame the new version for something it did not do: an alarm already in ``ALARM``
(a deploy would roll back at once, a promote would ship under it), a CodeDeploy deployment
group that is not for Lambda or that another deployment holds (CodeDeploy runs one per
group), a promote or rollback while CodeDeploy shifts the alias. What would not fail but
deserves a word (a group without automatic rollback, a hook the managed role may not invoke)
is a warning.
"""

from __future__ import annotations

from .aws import Services
from .errors import DeployError
from .github import Reporter
from .model import Command
from .rollout import HOOK_PREFIX, busy_group, function_name_of
from .settings import Settings


def preflight(settings: Settings, services: Services, io: Reporter) -> None:
    """Read-only checks of what the rollout will rely on, before anything moves."""
    rollout = settings.rollout
    if rollout.alarms:
        states = services.cloudwatch.alarm_states(rollout.alarms)
        io.info("alarms: " + ", ".join(f"{name} {state}" for name, state in states.items()))
        firing = ", ".join(sorted(name for name, state in states.items() if state == "ALARM"))
        if firing and rollout.command is Command.PROMOTE:
            raise DeployError.about(
                "alarms",
                f"refusing to promote while alarm {firing} is in ALARM",
                "roll the canary back with 'command: rollback', or promote once the alarm is OK",
            )
        if firing and rollout.command is Command.DEPLOY:
            # The gate would fail at once and blame the new version; start from a quiet baseline.
            raise DeployError.about(
                "alarms",
                f"alarm {firing} is already in ALARM before anything moved; nothing was changed",
                "deploy once the alarm is back to OK, or leave it out of alarms if it is unrelated",
            )
    if rollout.engine == "codedeploy" and rollout.command is Command.DEPLOY:
        _preflight_codedeploy(settings, services, io)
    if rollout.engine == "codedeploy" and rollout.command in (Command.PROMOTE, Command.ROLLBACK):
        _refuse_while_codedeploy_shifts(settings, services)


def _refuse_while_codedeploy_shifts(settings: Settings, services: Services) -> None:
    """CodeDeploy moves the alias itself while a deployment runs: a hand on it now would fight that deployment."""
    rollout = settings.rollout
    if active := services.codedeploy.active(rollout.codedeploy_application or "", rollout.codedeploy_group or ""):
        raise DeployError.about(
            "command",
            f"refusing to {rollout.command} alias '{settings.alias}' while {active[0].describe()} shifts it; nothing was changed",
            f"let the deployment finish, or stop it with its automatic rollback: aws deploy stop-deployment --deployment-id "
            f"{active[0].id} --auto-rollback-enabled",
        )


def _preflight_codedeploy(settings: Settings, services: Services, io: Reporter) -> None:
    """The deployment group must run Lambda deployments; what would make the hand-off fail
    later, or leave a failure unrolled-back, is said now."""
    rollout = settings.rollout
    application, group_name = rollout.codedeploy_application or "", rollout.codedeploy_group or ""
    group = services.codedeploy.group(application, group_name)
    if active := services.codedeploy.active(application, group_name):
        raise busy_group(group_name, active[0], "nothing was published and the alias was not moved")
    if group.compute_platform != "Lambda":
        raise DeployError.of(
            f"CodeDeploy deployment group '{group_name}' of application '{application}' is for the "
            f"'{group.compute_platform or 'unknown'}' compute platform, not Lambda; nothing was changed",
            "inputs 'codedeploy-application' / 'codedeploy-group'",
            "name an application created with compute platform Lambda, and its deployment group",
        )
    if not group.rollback_events:
        io.warning(
            f"CodeDeploy deployment group '{group_name}' does not roll back by itself. lambda-deploy asks this deployment to "
            "roll back on failure, alarm and stop, and moves the alias back itself if no rollback happens; enable automatic "
            "rollback on the group too, for deployments started elsewhere"
        )
    for input_id, hook in (("before-traffic-hook", rollout.before_traffic_hook), ("after-traffic-hook", rollout.after_traffic_hook)):
        if hook and not function_name_of(hook).startswith(HOOK_PREFIX):
            io.warning(
                f"{input_id} '{hook}' does not start with {HOOK_PREFIX}: the managed policy AWSCodeDeployRoleForLambda lets "
                f"CodeDeploy invoke only functions named {HOOK_PREFIX}*, so the deployment would fail unless the group's "
                "service role may invoke this function (lambda:InvokeFunction on it)"
            )
