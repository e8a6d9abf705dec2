"""A CodeDeploy that runs Lambda deployments, for the sandbox (moto's creates them and stops).

moto's CodeDeploy stores applications, deployment groups and deployments, but a deployment
never leaves ``Created``, ``StopDeployment`` and ``PutLifecycleEventHookExecutionStatus``
are missing, and a group's alarm configuration is dropped. This WSGI middleware sits in
front of moto and runs each Lambda deployment as CodeDeploy documents it ("Deployments on
an AWS Lambda compute platform", the AppSpec "hooks" section, "Redeploy and roll back a
deployment with CodeDeploy"), on a background thread, with time scaled for tests:

D1 lifecycle: ``Created`` -> ``InProgress`` -> ``Succeeded`` | ``Failed`` | ``Stopped``.
D2 hooks: ``BeforeAllowTraffic`` runs before any traffic moves, ``AfterAllowTraffic`` after
   all of it has. A hook is a Lambda function invoked (asynchronously) with
   ``{"DeploymentId", "LifecycleEventHookExecutionId"}``; the deployment waits for
   ``PutLifecycleEventHookExecutionStatus`` with that id. ``Failed``, a hook that cannot be
   invoked, or no answer within ``hook_timeout`` fails the deployment.
D3 traffic: the alias's weights move on the deployment configuration's schedule
   (``CodeDeployDefault.LambdaCanary10Percent5Minutes``: 10%, then 100% five minutes
   later), ``seconds_per_minute`` real seconds to a scheduled minute.
D4 alarms: while traffic shifts, the group's alarms (or the deployment's
   ``overrideAlarmConfiguration``) are read; one in ``ALARM`` stops the deployment
   (``Stopped``, error code ``ALARM_ACTIVE``).
D5 rollback: a failure (with ``DEPLOYMENT_FAILURE``), an alarm (``DEPLOYMENT_STOP_ON_ALARM``)
   or a stop with ``autoRollbackEnabled`` redeploys the previous version as a *second*
   deployment (``rollbackInfo.rollbackDeploymentId`` on the first, ``creator:
   autoRollback`` on the second). It takes ``rollback_seconds`` and then puts the alias
   wholly on the previous version; until then the alias stays as the failure left it.
   Without automatic rollback the alias stays where it was, split or not.
D6 ``StopDeployment`` answers ``Pending``; the deployment stops at its next step, with error
   code ``MANUAL_STOP`` (the API's ``ErrorCode`` enum).
D7 one active deployment per deployment group (CodeDeploy quotas: "Concurrent deployments per
   deployment group: 1", not adjustable): CreateDeployment while one is ``Created``, ``Queued``,
   ``InProgress``, ``Baking`` or ``Ready`` fails with ``DeploymentLimitExceededException``: "The
   Deployment Group 'x' already has an active Deployment 'd-…'". ListDeployments answers by
   group and ``includeOnlyStatuses``.
D8 the AppSpec is checked against the alias before anything moves (the AppSpec reference and
   CodeDeploy's troubleshooting guide): a ``CurrentVersion`` the alias does not point at fails
   the deployment with ``INVALID_LAMBDA_CONFIGURATION`` ("The Lambda function alias version does
   not match the current version in AppSpec file"); so does a ``CurrentVersion`` equal to the
   ``TargetVersion``, or ``$LATEST``. Nothing was shifted, so the sandbox starts no rollback for
   these (its choice; the messages for the last two are its own words).
D9 statuses as the API's ``DeploymentStatus`` enum: ``Created`` → ``Queued`` → ``InProgress`` →
   (``Baking``, for ``bake_seconds`` after the last shift) → ``Succeeded``; a rollback
   deployment's ``creator`` is ``codeDeployRollback`` (the ``DeploymentCreator`` enum).
D10 ``overrideAlarmConfiguration`` replaces the group's alarms for the deployment, and with
   ``enabled: false`` turns alarm polling off (CreateDeployment, "overrideAlarmConfiguration").
   An alarm whose state cannot be read (it does not exist) stops the deployment unless
   ``ignorePollAlarmFailure`` is set (AlarmConfiguration, "ignorePollAlarmFailure").

Test controls: ``before(operation, hook)`` runs ``hook`` just before the next such request;
``hook_answers[function] = "Succeeded" | "Failed" | None`` (None: the hook
never answers) and ``hook_delays[function]`` (seconds before it answers); ``fail_rollbacks``
makes the next rollback deployments fail (the alias then stays split); ``throttled[operation]
= n`` answers the next n calls of that operation (``GetDeployment``, ...) with
``ThrottlingException``, as CodeDeploy throttles; ``seconds_per_minute``, ``hook_timeout``
(CodeDeploy's hour per hook, scaled), ``rollback_seconds``, ``queue_seconds`` and
``bake_seconds`` set the pace.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import boto3

from ..schedule import parse_strategy

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]
TARGET_PREFIX = "CodeDeploy_20141006."
STATUSES = ("Created", "Queued", "InProgress", "Baking", "Ready", "Succeeded", "Failed", "Stopped")
ACTIVE = frozenset({"Created", "Queued", "InProgress", "Baking", "Ready"})
ALARM_MESSAGE = "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <{}>"  # noqa: E501


@dataclass
class _Deployment:
    id: str
    application: str
    group: str
    config: str
    function: str
    alias: str
    current: str
    target: str
    hooks: dict[str, str]
    alarms: tuple[str, ...]
    rollback_events: frozenset[str]
    status: str = "Created"
    error: dict[str, str] | None = None
    rollback_id: str = ""
    rollback_message: str = ""
    triggered_by: str = ""  # for a rollback deployment: the one it rolls back
    ignore_alarm_failure: bool = False  # ignorePollAlarmFailure
    stop: bool | None = None  # None: not asked to stop; else autoRollbackEnabled
    answers: dict[str, str | None] = field(default_factory=dict)  # hook execution id -> status
    created: float = field(default_factory=time.time)
    completed: float = 0.0


class CodeDeployModel:
    def __init__(self, app: WsgiApp, endpoint: Callable[[], str], region: str) -> None:
        self._app = app
        self._endpoint = endpoint
        self._region = region
        self._lock = threading.Lock()
        self._deployments: dict[str, _Deployment] = {}
        self._groups: dict[tuple[str, str], dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            for deployment in self._deployments.values():
                deployment.stop = False  # background threads end at their next step
            self._deployments = {}
            self._groups = {}
        self._hooks: dict[str, list[Callable[[], None]]] = {}
        self.hook_answers: dict[str, str | None] = {}
        self.hook_delays: dict[str, float] = {}
        self.fail_rollbacks = False
        self.throttled: dict[str, int] = {}
        self.seconds_per_minute = 0.2
        self.hook_timeout = 3.0
        self.rollback_seconds = 0.5
        self.queue_seconds = 0.05
        self.bake_seconds = 0.0
        self.poll = 0.05

    def before(self, operation: str, hook: Callable[[], None]) -> None:
        """Run ``hook`` once, just before the next ``operation`` request (``CreateDeployment``, ...)."""
        self._hooks.setdefault(operation, []).append(hook)

    # --- WSGI ------------------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if not target.startswith(TARGET_PREFIX):
            return self._app(environ, start_response)
        operation = target.removeprefix(TARGET_PREFIX)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        request = json.loads(body or b"{}")
        for hook in self._hooks.pop(operation, []):
            hook()  # a test acts as someone else, just before this request is handled
        if self.throttled.get(operation, 0) > 0:
            self.throttled[operation] -= 1
            return self._answer(start_response, 400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
        handler = {
            "CreateDeployment": self._create,
            "ListDeployments": self._list,
            "GetDeployment": self._get,
            "StopDeployment": self._stop,
            "PutLifecycleEventHookExecutionStatus": self._hook_status,
            "CreateDeploymentGroup": self._create_group,
            "GetDeploymentGroup": self._get_group,
        }.get(operation)
        if handler is None:
            return self._app(environ, start_response)
        try:
            status, answer = handler(environ, request)
        except _Refusal as refusal:
            status, answer = 400, {"__type": refusal.code, "message": refusal.message}
        return self._answer(start_response, status, answer)

    @staticmethod
    def _answer(start_response: StartResponse, status: int, answer: dict[str, Any]) -> list[bytes]:
        data = json.dumps(answer, default=str).encode()
        start_response(
            f"{status} {'OK' if status < 300 else 'Bad Request'}",
            [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data)))],
        )
        return [data]

    def _forward(self, environ: Environ) -> tuple[int, dict[str, Any]]:
        captured: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"] = int(status.split(maxsplit=1)[0])
            return lambda _: None

        chunks = self._app(environ, start)
        payload = b"".join(chunks)
        close = getattr(chunks, "close", None)
        if close:
            close()
        return captured["status"], json.loads(payload or b"{}")

    # --- groups: keep what moto drops ------------------------------------------------

    def _create_group(self, environ: Environ, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, answer = self._forward(environ)
        if status < 300:
            key = (request["applicationName"], request["deploymentGroupName"])
            self._groups[key] = {
                "alarmConfiguration": request.get("alarmConfiguration") or {"enabled": False, "alarms": []},
                "autoRollbackConfiguration": request.get("autoRollbackConfiguration") or {"enabled": False, "events": []},
            }
        return status, answer

    def _get_group(self, environ: Environ, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, answer = self._forward(environ)
        kept = self._groups.get((request.get("applicationName", ""), request.get("deploymentGroupName", "")))
        if status < 300 and kept:
            answer["deploymentGroupInfo"].update(kept)
        return status, answer

    # --- deployments ---------------------------------------------------------------

    def _active(self, application: str, group: str) -> list[_Deployment]:
        return [d for d in self._deployments.values() if (d.application, d.group) == (application, group) and d.status in ACTIVE]

    def _list(self, environ: Environ, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # D7
        wanted = set(request.get("includeOnlyStatuses") or STATUSES)
        found = [
            d.id
            for d in self._deployments.values()
            if (d.application, d.group) == (request.get("applicationName"), request.get("deploymentGroupName")) and d.status in wanted
        ]
        return 200, {"deployments": found}

    def _create(self, environ: Environ, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if busy := self._active(request.get("applicationName", ""), request.get("deploymentGroupName", "")):  # D7
                raise _Refusal(
                    "DeploymentLimitExceededException",
                    f"The Deployment Group '{request.get('deploymentGroupName')}' already has an active Deployment '{busy[0].id}'",
                )
        status, answer = self._forward(environ)  # moto validates the application and group
        if status >= 300:
            return status, answer
        content = json.loads(request["revision"]["appSpecContent"]["content"])
        ((_, resource),) = next(iter(content["Resources"])).items()
        properties = resource["Properties"]
        group = self._groups.get((request["applicationName"], request["deploymentGroupName"]), {})
        override = request.get("overrideAlarmConfiguration")
        alarms = override if override is not None else group.get("alarmConfiguration", {})  # D10: enabled false turns polling off
        rollback = request.get("autoRollbackConfiguration") or group.get("autoRollbackConfiguration") or {}
        deployment = _Deployment(
            id=answer["deploymentId"],
            application=request["applicationName"],
            group=request["deploymentGroupName"],
            config=request.get("deploymentConfigName", "CodeDeployDefault.LambdaAllAtOnce"),
            function=properties["Name"],
            alias=properties["Alias"],
            current=str(properties["CurrentVersion"]),
            target=str(properties["TargetVersion"]),
            hooks={name: fn for hook in content.get("Hooks", []) for name, fn in hook.items()},
            alarms=tuple(a["name"] for a in alarms.get("alarms", [])) if alarms.get("enabled") else (),
            rollback_events=frozenset(rollback.get("events", [])) if rollback.get("enabled") else frozenset(),
            ignore_alarm_failure=bool(alarms.get("ignorePollAlarmFailure")),
        )
        self._start(deployment, self._run)
        return status, answer

    def _get(self, environ: Environ, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        deployment = self._deployments.get(request.get("deploymentId", ""))
        if deployment is None:
            return self._forward(environ)
        info: dict[str, Any] = {
            "deploymentId": deployment.id,
            "applicationName": deployment.application,
            "deploymentGroupName": deployment.group,
            "deploymentConfigName": deployment.config,
            "status": deployment.status,
            "computePlatform": "Lambda",
            "createTime": deployment.created,
            "creator": "codeDeployRollback" if deployment.triggered_by else "user",  # D9
        }
        if deployment.completed:
            info["completeTime"] = deployment.completed
        if deployment.error:
            info["errorInformation"] = deployment.error
        if deployment.rollback_id or deployment.triggered_by:
            info["rollbackInfo"] = {
                key: value
                for key, value in (
                    ("rollbackDeploymentId", deployment.rollback_id),
                    ("rollbackTriggeringDeploymentId", deployment.triggered_by),
                    ("rollbackMessage", deployment.rollback_message),
                )
                if value
            }
        return 200, {"deploymentInfo": info}

    def _stop(self, environ: Environ, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        deployment = self._deployments.get(request.get("deploymentId", ""))
        if deployment is None:
            raise _Refusal("DeploymentDoesNotExistException", f"The deployment {request.get('deploymentId')} could not be found")
        if deployment.status in ("Succeeded", "Failed", "Stopped"):
            raise _Refusal("DeploymentAlreadyCompletedException", f"The deployment {deployment.id} has already completed")
        deployment.stop = bool(request.get("autoRollbackEnabled"))
        return 200, {"status": "Pending", "statusMessage": "Stopping deployment"}

    def _hook_status(self, environ: Environ, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        deployment = self._deployments.get(request.get("deploymentId", ""))
        execution = request.get("lifecycleEventHookExecutionId", "")
        if deployment is None or execution not in deployment.answers:
            raise _Refusal("LifecycleEventAlreadyCompletedException", "unknown lifecycle event hook execution")
        deployment.answers[execution] = request.get("status")
        return 200, {"lifecycleEventHookExecutionId": execution}

    # --- the deployment itself -----------------------------------------------------------

    def _start(self, deployment: _Deployment, run: Callable[[_Deployment], None]) -> None:
        with self._lock:
            self._deployments[deployment.id] = deployment
        threading.Thread(target=run, args=(deployment,), name=f"codedeploy-{deployment.id}", daemon=True).start()

    def _clients(self) -> tuple[Any, Any, Any]:

        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=self._region)
        endpoint = self._endpoint()
        return tuple(session.client(name, endpoint_url=endpoint) for name in ("lambda", "cloudwatch", "codedeploy"))

    def _run(self, deployment: _Deployment) -> None:
        lambda_, cloudwatch, codedeploy = self._clients()
        for status in ("Queued", "InProgress"):  # D9
            time.sleep(self.queue_seconds)
            if self._stopped(deployment):
                return
            deployment.status = status
        try:
            if problem := self._invalid_appspec(lambda_, deployment):  # D8: nothing shifted, nothing to roll back
                self._end(deployment, "Failed", "INVALID_LAMBDA_CONFIGURATION", problem)
                return
            if not self._hook(deployment, "BeforeAllowTraffic", lambda_, codedeploy):
                return
            for stage in parse_strategy(deployment.config).stages:
                if self._stopped(deployment):  # a stopped deployment shifts nothing more
                    return
                if stage.weight < 1:
                    self._route(lambda_, deployment, deployment.current, {deployment.target: stage.weight})
                else:
                    self._route(lambda_, deployment, deployment.target, {})
                if not self._bake(deployment, stage.bake, cloudwatch):
                    return
            if not self._hook(deployment, "AfterAllowTraffic", lambda_, codedeploy):
                return
            if self.bake_seconds:  # D9
                deployment.status = "Baking"
                time.sleep(self.bake_seconds)
            self._end(deployment, "Succeeded")
        except Exception as error:  # noqa: BLE001 - the model itself failed: the deployment fails, as CodeDeploy's would
            self._fail(deployment, "INTERNAL_ERROR", f"{type(error).__name__}: {error}")

    def _invalid_appspec(self, lambda_: Any, deployment: _Deployment) -> str:
        if deployment.current == "$LATEST":
            return "The CurrentVersion in the AppSpec file cannot be $LATEST: a Lambda deployment shifts between published versions"
        if deployment.current == deployment.target:
            return "The CurrentVersion and the TargetVersion in the AppSpec file are the same version: there is nothing to deploy"
        alias = lambda_.get_alias(FunctionName=deployment.function, Name=deployment.alias)
        if alias["FunctionVersion"] != deployment.current:
            return "The Lambda function alias version does not match the current version in AppSpec file"
        return ""

    def _route(self, lambda_: Any, deployment: _Deployment, version: str, weights: dict[str, float]) -> None:
        if self._deployments.get(deployment.id) is not deployment:
            return  # forgotten by a reset: a test that ended must not move the next test's alias
        lambda_.update_alias(
            FunctionName=deployment.function,
            Name=deployment.alias,
            FunctionVersion=version,
            RoutingConfig={"AdditionalVersionWeights": weights},
        )

    def _bake(self, deployment: _Deployment, seconds: float, cloudwatch: Any) -> bool:
        """Hold a stage; False when the deployment ended meanwhile (an alarm, a stop)."""
        until = time.monotonic() + seconds / 60 * self.seconds_per_minute
        while True:
            if self._stopped(deployment):
                return False
            if deployment.alarms:
                states = cloudwatch.describe_alarms(AlarmNames=list(deployment.alarms))["MetricAlarms"]
                firing = [a["AlarmName"] for a in states if a["StateValue"] == "ALARM"]
                unread = sorted(set(deployment.alarms) - {a["AlarmName"] for a in states})
                if unread and not deployment.ignore_alarm_failure:  # D10
                    why = f"The state of alarm(s) {', '.join(unread)} could not be retrieved from CloudWatch"
                    self._end(deployment, "Stopped", "ALARM_ACTIVE", why)
                    self._roll_back(deployment, "DEPLOYMENT_STOP_ON_ALARM")
                    return False
                if firing:
                    self._end(deployment, "Stopped", "ALARM_ACTIVE", ALARM_MESSAGE.format(", ".join(firing)))
                    self._roll_back(deployment, "DEPLOYMENT_STOP_ON_ALARM")
                    return False
            if time.monotonic() >= until:
                return True
            time.sleep(self.poll)

    def _stopped(self, deployment: _Deployment) -> bool:
        if deployment.stop is None:
            return False
        self._end(deployment, "Stopped", "MANUAL_STOP", "The deployment was stopped by the user")  # D6
        if deployment.stop and self._deployments.get(deployment.id) is deployment:
            self._roll_back(deployment, "", forced=True)
        return True

    def _hook(self, deployment: _Deployment, event: str, lambda_: Any, codedeploy: Any) -> bool:
        function = deployment.hooks.get(event)
        if not function:
            return True
        execution = f"{deployment.id}-{event}-{next(self._ids)}"
        deployment.answers[execution] = None
        payload = json.dumps({"DeploymentId": deployment.id, "LifecycleEventHookExecutionId": execution})
        try:
            lambda_.invoke(FunctionName=function, InvocationType="Event", Payload=payload.encode())
        except Exception as error:  # noqa: BLE001 - any refusal to invoke fails the deployment
            self._fail(deployment, "HOOK_EXECUTION_FAILURE", f"The {event} hook {function} could not be invoked: {error}")
            return False
        answer = self.hook_answers.get(function, "Succeeded")
        if answer is not None:  # what the hook's own code does: report through the API, after its own work

            def report() -> None:
                time.sleep(self.hook_delays.get(function, 0.0))
                with contextlib.suppress(Exception):  # a reset of the sandbox may forget the deployment meanwhile
                    codedeploy.put_lifecycle_event_hook_execution_status(
                        deploymentId=deployment.id, lifecycleEventHookExecutionId=execution, status=answer
                    )

            threading.Thread(target=report, name=f"hook-{execution}", daemon=True).start()
        until = time.monotonic() + self.hook_timeout
        while deployment.answers[execution] is None and time.monotonic() < until:
            if self._stopped(deployment):
                return False
            time.sleep(self.poll)
        reported = deployment.answers[execution]
        if reported == "Succeeded":
            return True
        why = "reported Failed" if reported else "did not report a status in time (PutLifecycleEventHookExecutionStatus)"
        self._fail(deployment, "HOOK_EXECUTION_FAILURE", f"The {event} hook {function} {why}")
        return False

    def _end(self, deployment: _Deployment, status: str, code: str = "", message: str = "") -> None:
        deployment.status = status
        deployment.completed = time.time()
        if code:
            deployment.error = {"code": code, "message": message}

    def _fail(self, deployment: _Deployment, code: str, message: str) -> None:
        self._end(deployment, "Failed", code, message)
        self._roll_back(deployment, "DEPLOYMENT_FAILURE")

    def _roll_back(self, deployment: _Deployment, event: str, forced: bool = False) -> None:
        """D5: redeploy the previous version as a second deployment, when configured to."""
        if not forced and event not in deployment.rollback_events:
            return
        rollback = _Deployment(
            id=f"d-RB{next(self._ids):08d}",
            application=deployment.application,
            group=deployment.group,
            config="CodeDeployDefault.LambdaAllAtOnce",
            function=deployment.function,
            alias=deployment.alias,
            current=deployment.target,
            target=deployment.current,
            hooks={},
            alarms=(),
            rollback_events=frozenset(),
            triggered_by=deployment.id,
        )
        deployment.rollback_id = rollback.id
        deployment.rollback_message = f"Automatic rollback triggered: redeploying version {deployment.current} as {rollback.id}"
        self._start(rollback, self._run_rollback)

    def _run_rollback(self, rollback: _Deployment) -> None:
        lambda_, _, _ = self._clients()
        rollback.status = "InProgress"
        time.sleep(self.rollback_seconds)
        if self.fail_rollbacks:
            self._end(rollback, "Failed", "INTERNAL_ERROR", "The rollback deployment failed")
            return
        with contextlib.suppress(Exception):
            self._route(lambda_, rollback, rollback.target, {})
            self._end(rollback, "Succeeded")
            return
        self._end(rollback, "Failed", "INTERNAL_ERROR", "The rollback could not move the alias")


class _Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message
