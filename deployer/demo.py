"""``python -m deployer demo``: the whole pipeline against a local sandbox, no AWS account.

It starts moto's server (behind the fidelity layer) on loopback, forces this process's
AWS settings at it with dummy credentials so nothing can reach real AWS, then:
1. creates a role and deploys ``examples/hello`` (function created, version 1, alias);
2. deploys it again unchanged (the version is reused, nothing is published);
3. changes the code and deploys (exactly one new version; the alias moves);
4. ships a change as a ``Canary10Percent5Minutes`` canary gated on an alarm that fires
   mid-bake: the canary is rolled back by itself;
5. ships it again with the alarm quiet: the canary bakes healthy and is promoted;
6. hands a canary to CodeDeploy (the sandbox's model of it runs Lambda deployments): a
   ``CodeDeployHook_`` pre-traffic hook reports Succeeded, CodeDeploy shifts 10% and then
   the rest, and the action follows it to the end;
7. ships a release that answers three times slower than the stable version while the
   sandbox sends traffic through the alias: canary analysis compares the two versions'
   p99 side by side, with no alarm, and rolls it back naming both numbers;
8. takes one artifact to three regions in two waves from a deploy file: us-east-1 first,
   baked, then eu-west-1 and eu-central-1.
Steps 4 to 6 run on a clock 60 times faster than real time (CodeDeploy's scheduled minute
is 0.2 s in the sandbox), so each takes seconds; steps 7 and 8 take a few seconds of real
time, since CloudWatch's metrics are read for the time they were put.
"""

from __future__ import annotations

import io as bytes_io
import os
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import boto3

from .app import run
from .github import ConsoleIO
from .model import Command
from .sandbox import Sandbox
from .sandbox.metrics import Profile

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "hello"
FUNCTION = "lambda-deploy-demo"
ALARM = "lambda-deploy-demo-errors"
SPEED = 60.0
Say = Callable[[str], None]


class DemoClock:
    """Real time whose sleeps pass ``SPEED`` times faster, with actions scheduled at
    given times, so a five-minute bake takes five seconds."""

    def __init__(self) -> None:
        self._origin = time.monotonic()
        self._skipped = 0.0
        self._wall = datetime.now(UTC)
        self._scheduled: list[tuple[float, Callable[[], None]]] = []

    def monotonic(self) -> float:
        return time.monotonic() - self._origin + self._skipped

    def now(self) -> datetime:
        return self._wall + timedelta(seconds=self.monotonic())

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds / SPEED)
        self._skipped += seconds - seconds / SPEED
        while self._scheduled and self._scheduled[0][0] <= self.monotonic():
            self._scheduled.pop(0)[1]()

    def at(self, seconds: float, action: Callable[[], None]) -> None:
        self._scheduled.append((self.monotonic() + seconds, action))


def _isolate(sandbox: Sandbox) -> None:
    """Point every AWS client of this process at the sandbox, whatever the user's setup."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        os.environ.pop(key, None)
    os.environ.update(sandbox.env())
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def _create_role() -> str:

    iam = boto3.client("iam", region_name=os.environ["AWS_REGION"])
    role = iam.create_role(RoleName="lambda-deploy-demo", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
    return str(role["Role"]["Arn"])


CODEDEPLOY_APP, CODEDEPLOY_GROUP, HOOK = "lambda-deploy-demo", "live", "CodeDeployHook_lambda_deploy_demo"


def _create_codedeploy(role: str) -> str:
    """A CodeDeploy application and deployment group for Lambda, and a pre-traffic hook; the hook's name."""

    region = os.environ["AWS_REGION"]
    codedeploy = boto3.client("codedeploy", region_name=region)
    codedeploy.create_application(applicationName=CODEDEPLOY_APP, computePlatform="Lambda")
    codedeploy.create_deployment_group(
        applicationName=CODEDEPLOY_APP, deploymentGroupName=CODEDEPLOY_GROUP,
        serviceRoleArn="arn:aws:iam::123456789012:role/lambda-deploy-demo-codedeploy",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
    )  # fmt: skip
    package = bytes_io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("hook.py", "def handler(event, context):\n    return None\n")
    boto3.client("lambda", region_name=region).create_function(
        FunctionName=HOOK, Runtime="python3.12", Role=role, Handler="hook.handler", Code={"ZipFile": package.getvalue()}
    )
    return HOOK


def _set_alarm(state: str) -> Callable[[], None]:

    cloudwatch = boto3.client("cloudwatch", region_name=os.environ["AWS_REGION"])
    if state == "create":
        cloudwatch.put_metric_alarm(
            AlarmName=ALARM, MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60,
            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        )  # fmt: skip
        return lambda: None

    def flip() -> None:
        cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue=state, StateReason="set by the demo")
        print(f"  (demo: alarm {ALARM} is now {state})", flush=True)

    return flip


def run_demo(out: TextIO = sys.stdout) -> int:
    def say(text: str) -> None:
        print(text, file=out, flush=True)

    if not EXAMPLES.is_dir():
        say(f"error: the demo needs the repository's examples/ folder (looked in {EXAMPLES}); run it from a checkout")
        return 1
    io = ConsoleIO()
    with Sandbox() as sandbox, tempfile.TemporaryDirectory(prefix="lambda-deploy-demo-") as workspace:
        _isolate(sandbox)
        shutil.copytree(EXAMPLES, Path(workspace) / "hello")
        inputs = {
            "function-name": FUNCTION,
            "source": "hello",
            "role": _create_role(),
            "runtime": "python3.12",
            "handler": "app.handler",
            "environment": "GREETING=Good morning\nAPI_TOKEN=demo-secret-value",
            "alias": "live",
        }
        env = {
            **os.environ,
            "GITHUB_WORKSPACE": workspace,
            "GITHUB_SHA": "0123456789abcdef",
            "GITHUB_REF_NAME": "main",
            "GITHUB_ACTOR": "demo",
        }
        steps = (
            ("1/8 first deploy: the function is created, version 1 published, alias 'live' created", None),
            ("2/8 the same code again: nothing is published, the version is reused", None),
            ("3/8 a code change: exactly one new version, and the alias moves", "\n# changed by the demo\n"),
        )
        say(f"Sandbox AWS (moto + fidelity layer) at {sandbox.endpoint}; no real AWS is reachable.\n")
        for title, change in steps:
            say(f"\n━━ Demo {title}")
            if change:
                _append(workspace, change)
            code = run(Command.DEPLOY, inputs, env, io).code
            if code != 0:
                return code
        _set_alarm("create")
        canary = {**inputs, "strategy": "Canary10Percent5Minutes", "alarms": ALARM, "health-interval": "30"}
        say("\n━━ Demo 4/8 a canary (10% for 5 minutes, on a 60x clock) whose alarm fires mid-bake: rolled back by itself")
        _append(workspace, "\n# canary release\n")
        clock = DemoClock()
        clock.at(100, _set_alarm("ALARM"))
        code = run(Command.DEPLOY, canary, env, io, clock=clock).code
        if code != 1:
            say("error: the failing canary should have been rolled back")
            return 1
        say("\n━━ Demo 5/8 the same release with the alarm quiet: the canary bakes healthy and is promoted")
        _set_alarm("OK")()
        code = run(Command.DEPLOY, canary, env, io, clock=DemoClock()).code
        if code != 0:
            return code
        say("\n━━ Demo 6/8 the next release through AWS CodeDeploy: a pre-traffic hook, 10%, then the rest")
        _append(workspace, "\n# through CodeDeploy\n")
        handed = {
            **inputs,
            "engine": "codedeploy",
            "strategy": "Canary10Percent5Minutes",
            "codedeploy-application": CODEDEPLOY_APP,
            "codedeploy-group": CODEDEPLOY_GROUP,
            "before-traffic-hook": _create_codedeploy(inputs["role"]),
            "health-interval": "1",
        }
        hook = handed["before-traffic-hook"]
        if sandbox.fidelity is not None:  # say when CodeDeploy calls the hook: the action sees only the deployment's statuses
            sandbox.fidelity.before(
                "Invoke", lambda: say(f"  (demo: CodeDeploy invokes the pre-traffic hook {hook}; it reports Succeeded)"), hook
            )
        code = run(Command.DEPLOY, handed, env, io).code
        if code != 0:
            return code
        code = _slow_release(sandbox, inputs, env, io, workspace, say)
        if code != 1:
            say("error: the slow release should have been rolled back")
            return 1
        code = _waves(inputs["role"], env, io, workspace, say)
        if code != 0:
            return code
    say(
        "\nDemo finished: create → unchanged (reused) → changed (new version) → canary rolled back → canary promoted → "
        "CodeDeploy canary → a slow release judged against the stable one and rolled back → three regions in two waves."
    )
    return 0


# A stepped canary checked every second, judged on p99 against the stable version once each
# version behind the alias has 20 invocations in the window.
ANALYSIS = {"strategy": "30% 4s, 60% 4s, 100%", "health-interval": "1", "min-invocations": "20", "max-latency-increase": "25%"}

WAVES = """\
waves:
  - name: one-box
    regions: [us-east-1]
    bake: 2s
  - name: europe
    regions: [eu-west-1, eu-central-1]
    bake: 2s
defaults:
  role: {role}
  runtime: python3.12
  handler: app.handler
  alias: live
  max-error-rate: 5%
  health-interval: 1
functions:
  - function-name: {function}
    source: hello
"""


def _slow_release(sandbox: Sandbox, inputs: dict[str, str], env: dict[str, str], io: ConsoleIO, workspace: str, say: Say) -> int:
    """Step 7: traffic through the alias while a release three times slower than the stable version rolls out."""
    say("\n━━ Demo 7/8 canary analysis: the release answers three times slower than the stable version; p99 side by side, no alarm")
    _append(workspace, "\n# a slow release\n")
    stable = boto3.client("lambda").get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"]
    with sandbox.traffic(FUNCTION, "live", rate=80) as traffic:
        traffic.default(Profile(latency=300.0))  # every new version is slow...
        traffic.profile(stable, Profile(latency=100.0))  # ...and the stable one is not
        say(f"  (demo: 80 requests a second through alias live; version {stable} answers in about 100 ms, the release in 300 ms)")
        return run(Command.DEPLOY, {**inputs, **ANALYSIS}, env, io).code


def _waves(role: str, env: dict[str, str], io: ConsoleIO, workspace: str, say: Say) -> int:
    """Step 8: a deploy file with two waves, three regions."""
    say("\n━━ Demo 8/8 waves: one artifact to three regions, us-east-1 first and baked, then eu-west-1 and eu-central-1")
    _append(workspace, "\n# the fix, everywhere\n")
    (Path(workspace) / "deploy.yml").write_text(WAVES.format(role=role, function=FUNCTION), encoding="utf-8")
    return run(Command.DEPLOY, {"config": "deploy.yml"}, env, io).code


def _append(workspace: str, text: str) -> None:
    with (Path(workspace) / "hello" / "app.py").open("a", encoding="utf-8") as handle:
        handle.write(text)
