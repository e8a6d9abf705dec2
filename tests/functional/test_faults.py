"""The fault matrix: a fault at every AWS call of a deploy and of a canary, in turn.

The sandbox's ``Network`` layer injects each fault the way AWS or the network produces
it (a throttle, a 500, a connection cut after the request was carried out, an answer
held back past the read timeout), through a real socket, so botocore's own retries and
our error handling meet the real thing. Two shapes per call index:

- one fault: botocore retries it away, and the deploy must succeed exactly as without it
  (a lost answer must not turn into a false conflict, nor into a second version);
- an outage (the call fails on every one of botocore's attempts): the run ends with
  exit 1 and a message, never exit 2.

Afterwards, every time: the alias points at a version holding the old code or the new
code, it carries no weights, and running the same deploy again converges on the new
code with no extra version.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.retries.standard import ExponentialBackoff

from deployer.app import deliver
from deployer.aws import RETRY_ATTEMPTS, Services
from deployer.commands.functions import function_report
from deployer.github import ConsoleIO, Reporter
from deployer.model import Result
from deployer.package import build_artifact
from deployer.pipeline import run as run_one
from deployer.sandbox import REGION, Sandbox
from deployer.sandbox.network import FAULTS
from deployer.settings import Settings, load_settings
from tests.conftest import create_alarm
from tests.fakes import FakeClock

ALARM = "orders-errors"
READ_TIMEOUT = 0.25


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore sleeps up to 2**n seconds between retries; these faults need no waiting."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


@pytest.fixture
def net(sandbox: Sandbox, no_backoff: None) -> Iterator[Sandbox]:
    assert sandbox.network is not None and sandbox.fidelity is not None
    sandbox.network.stall_seconds = READ_TIMEOUT * 2
    sandbox.fidelity.in_progress_reads = 1
    yield sandbox
    sandbox.fidelity.in_progress_reads = 2


def connect(settings: Settings, io: Reporter) -> Services:
    return Services.connect(REGION, settings.wait_timeout, io.info, poll_delay=0.01, read_timeout=READ_TIMEOUT)


@dataclass(frozen=True)
class Run:
    code: int
    log: str
    result: Result | None


@dataclass
class Scenario:
    """orders on version 1 behind alias live, a code change waiting, and what a deploy of it sends."""

    sandbox: Sandbox
    workspace: Path
    role_arn: str
    inputs: dict[str, str]
    alarm_at: float | None = None  # fire the alarm at this time of the rollout's clock
    old_code: str = ""
    new_code: str = ""
    clock: FakeClock | None = None  # the last run's

    def run(self, **extra: str) -> Run:
        clock = self.clock = FakeClock()
        if self.alarm_at is not None:
            cloudwatch = boto3.client("cloudwatch", region_name=REGION)
            clock.at(self.alarm_at, lambda: cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="test"))
        out = io.StringIO()
        env = {"GITHUB_WORKSPACE": str(self.workspace), "AWS_REGION": REGION, "GITHUB_RUN_ID": "9"}
        inputs = {"function-name": "orders", "source": "app", "alias": "live", **self.inputs, **extra}
        io_ = ConsoleIO(out)
        ended = run_one(load_settings(inputs, env), io_, connect, clock)
        deliver(function_report(ended), io_)  # the problems said as the action says them
        return Run(ended.code, out.getvalue(), ended.value)

    def prepare(self) -> None:
        """A fresh account: version 1 live, alarm OK, version 2's code in the workspace."""
        assert self.sandbox.network is not None
        self.sandbox.reset()
        boto3.client("iam", region_name=REGION).create_role(RoleName="deploy-test", AssumeRolePolicyDocument="{}")
        create_alarm(boto3.client("cloudwatch", region_name=REGION), ALARM)
        handler = self.workspace / "app" / "handler.py"
        handler.write_text("def handler(event, context):\n    return 1\n")
        first = self.run(role=self.role_arn, runtime="python3.12", handler="handler.handler", strategy="all-at-once")
        assert first.code == 0, first.log
        self.old_code = first.result.code_sha256  # type: ignore[union-attr]
        handler.write_text("def handler(event, context):\n    return 2\n")
        self.new_code = build_artifact(self.workspace / "app").sha256
        self.sandbox.network.arm({})

    def calls(self, exit_code: int = 0) -> int:
        """How many AWS requests the deploy makes when the network is sound."""
        self.prepare()
        assert self.run().code == exit_code
        assert self.sandbox.network is not None
        return self.sandbox.network.requests

    def alias(self) -> tuple[str, dict[str, float], str]:
        client = boto3.client("lambda", region_name=REGION)
        alias = client.get_alias(FunctionName="orders", Name="live")
        weights = dict((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
        code = client.get_function_configuration(FunctionName="orders", Qualifier=alias["FunctionVersion"])["CodeSha256"]
        return alias["FunctionVersion"], weights, code

    def versions(self) -> list[str]:
        client = boto3.client("lambda", region_name=REGION)
        listed = client.list_versions_by_function(FunctionName="orders")["Versions"]
        return [v["Version"] for v in listed if v["Version"] != "$LATEST"]

    def assert_safe(self, run: Run, what: str) -> None:
        """The state every faulted run must leave, whatever happened to it."""
        assert run.code in (0, 1), f"{what}: exit {run.code}\n{run.log}"
        assert "Traceback" not in run.log and "bug in lambda-deploy" not in run.log, f"{what}\n{run.log}"
        if run.code == 1:
            assert "error:" in run.log, f"{what}: failed without saying why\n{run.log}"
        _version, weights, code = self.alias()
        assert weights == {}, f"{what}: weights left behind\n{run.log}"
        assert code in (self.old_code, self.new_code), f"{what}: the alias serves a third code"

    def assert_converges(self, what: str) -> None:
        assert self.sandbox.network is not None
        self.sandbox.network.arm({})
        self.alarm_at = None
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="test")
        again = self.run()
        assert again.code == 0, f"{what}: the re-run did not converge\n{again.log}"
        _version, weights, code = self.alias()
        assert (code, weights) == (self.new_code, {}), f"{what}: {again.log}"
        assert self.versions() == ["1", "2"], f"{what}: a version was published twice: {self.versions()}"


@pytest.fixture
def scenario(net: Sandbox, workspace: Path, role_arn: str) -> Scenario:
    return Scenario(net, workspace, role_arn, {})


@pytest.mark.parametrize("kind", FAULTS)
def test_one_fault_at_any_call_of_a_deploy_changes_nothing_about_the_outcome(scenario: Scenario, kind: str) -> None:
    calls = scenario.calls()
    assert calls >= 8
    for number in range(1, calls + 1):
        scenario.prepare()
        scenario.sandbox.network.arm({number: kind})  # type: ignore[union-attr]
        run = scenario.run()
        what = f"{kind} at call {number} of {calls}"
        assert run.code == 0, f"{what}\n{run.log}"
        assert run.result is not None and (run.result.status, run.result.version) == ("deployed", "2"), what
        assert scenario.alias() == ("2", {}, scenario.new_code), what
        assert scenario.versions() == ["1", "2"], what


@pytest.mark.parametrize("kind", FAULTS)
def test_an_outage_at_any_call_of_a_deploy_is_exit_1_safe_and_rerunnable(scenario: Scenario, kind: str) -> None:
    calls = scenario.calls()
    for number in range(1, calls + 1):
        scenario.prepare()
        scenario.sandbox.network.outage(kind, number, RETRY_ATTEMPTS)  # type: ignore[union-attr]
        run = scenario.run()
        what = f"{kind} outage from call {number} of {calls}"
        scenario.assert_safe(run, what)
        assert run.code == 1, f"{what}: an outage of a whole call cannot succeed\n{run.log}"
        scenario.assert_converges(what)


CANARY = {"strategy": "canary 10% 30s", "alarms": ALARM, "health-interval": "10"}


@pytest.mark.parametrize("kind", FAULTS)
def test_faults_during_a_canarys_bake(scenario: Scenario, kind: str) -> None:
    scenario.inputs = CANARY
    calls = scenario.calls()
    for number in range(1, calls + 1):
        for length in (1, RETRY_ATTEMPTS):
            scenario.prepare()
            scenario.sandbox.network.outage(kind, number, length)  # type: ignore[union-attr]
            run = scenario.run()
            what = f"{kind} x{length} from call {number} of {calls} of a healthy canary"
            scenario.assert_safe(run, what)
            if length == 1:
                assert run.code == 0 and scenario.alias() == ("2", {}, scenario.new_code), f"{what}\n{run.log}"
            scenario.assert_converges(what)


@pytest.mark.parametrize("kind", FAULTS)
def test_faults_during_a_canarys_rollback(scenario: Scenario, kind: str) -> None:
    scenario.inputs = CANARY
    scenario.alarm_at = 15
    calls = scenario.calls(exit_code=1)
    for number in range(calls - 3, calls + 1):  # the last checks and the restore itself
        for length in (1, RETRY_ATTEMPTS):
            scenario.prepare()
            scenario.alarm_at = 15
            scenario.sandbox.network.outage(kind, number, length)  # type: ignore[union-attr]
            run = scenario.run()
            what = f"{kind} x{length} from call {number} of {calls} of a canary that rolls back"
            scenario.assert_safe(run, what)
            assert run.code == 1 and scenario.alias()[0] == "1", f"{what}: the canary must end on stable\n{run.log}"
            scenario.assert_converges(what)


def test_access_denied_while_restoring_the_alias_is_said_at_once(scenario: Scenario) -> None:
    """A refusal cannot pass: one UpdateAlias, no pause, and the way out (not six calls and 50 s of sleep)."""
    scenario.inputs = CANARY
    scenario.alarm_at = 15
    scenario.calls(exit_code=1)
    network = scenario.sandbox.network
    assert network is not None and scenario.clock is not None
    bake_sleeps = list(scenario.clock.sleeps)  # the sound run's: the bake's intervals only

    def alias_moves() -> list[int]:
        return [seen.number for seen in network.seen if seen.method == "PUT" and seen.path.endswith("/aliases/live")]

    restore = alias_moves()[-1]
    scenario.prepare()
    scenario.alarm_at = 15
    network.arm({restore: "access-denied"})
    run = scenario.run()
    assert run.code == 1 and "Traceback" not in run.log
    assert [number for number in alias_moves() if number >= restore] == [restore]
    assert scenario.clock.sleeps == bake_sleeps and "trying again" not in run.log  # no RESTORE_PAUSE
    assert "could not put alias 'live' back on version 1" in run.log and "AccessDeniedException" in run.log
    assert "fix what AWS refused, then run 'command: rollback'" in run.log
    assert scenario.alias()[1] != {}  # it really was left half-shifted: the message is the way out


def test_the_matrix_reaches_every_kind_of_call(scenario: Scenario) -> None:
    """The indices above cover the calls that matter: the upload, the publish and the alias moves."""
    scenario.inputs = CANARY
    scenario.calls()
    seen = [entry.path for entry in scenario.sandbox.network.seen]  # type: ignore[union-attr]
    assert any(path.endswith("/code") for path in seen)
    assert any(path.endswith("/versions") for path in seen)
    assert sum("/aliases/live" in path for path in seen) >= 3


@pytest.mark.parametrize("kind", FAULTS)
def test_one_fault_at_any_call_of_a_first_deploy(scenario: Scenario, kind: str) -> None:
    """CreateFunction and CreateAlias answer a retry after a lost answer with 'already exists'."""
    create = {"role": scenario.role_arn, "runtime": "python3.12", "handler": "handler.handler"}
    scenario.sandbox.reset()
    boto3.client("iam", region_name=REGION).create_role(RoleName="deploy-test", AssumeRolePolicyDocument="{}")
    scenario.sandbox.network.arm({})  # type: ignore[union-attr]
    assert scenario.run(**create).code == 0
    calls = scenario.sandbox.network.requests  # type: ignore[union-attr]
    for number in range(1, calls + 1):
        scenario.sandbox.reset()
        boto3.client("iam", region_name=REGION).create_role(RoleName="deploy-test", AssumeRolePolicyDocument="{}")
        scenario.sandbox.network.arm({number: kind})  # type: ignore[union-attr]
        run = scenario.run(**create)
        what = f"{kind} at call {number} of {calls} of a first deploy"
        assert run.code == 0, f"{what}\n{run.log}"
        assert scenario.alias()[:2] == ("1", {}) and scenario.versions() == ["1"], what
