"""Every botocore error that can reach a user has a deliberate answer (``aws.explain``),
and a plan stopped part-way says where it stopped and what a re-run does (``interruption``)."""

from __future__ import annotations

import inspect
import io
from typing import Any

import botocore.exceptions as boto_errors
import pytest
from botocore.exceptions import ClientError

from deployer.app import main
from deployer.aws import explain
from deployer.errors import ConflictError, ConnectionLost, DeployError, GroupBusy, InputError, RefusedError, TransientError
from deployer.executor import interruption
from deployer.github import ConsoleIO
from deployer.model import Plan, PointAlias, PublishVersion, ReuseVersion, ShiftTraffic, SmokeTest, UpdateCode, UpdateConfiguration
from deployer.schedule import parse_strategy


def client_error(code: str, message: str = "nope", status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    ("error", "kind", "says"),
    [
        (client_error("PreconditionFailedException", status=412), ConflictError, "someone else changed it meanwhile"),
        (
            client_error(
                "InvalidParameterValueException",
                "CodeSHA256 (abc=) is different from current CodeSHA256 in $LATEST (def=). "
                "Please try again with the CodeSHA256 in $LATEST.",
            ),
            ConflictError,
            "someone else changed it meanwhile",
        ),
        (client_error("ResourceConflictException", status=409), ConflictError, "someone else changed it meanwhile"),
        (
            client_error("InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes"),
            DeployError,
            "Unzipped size",
        ),
        (client_error("TooManyRequestsException", "Rate exceeded", 429), TransientError, "AWS kept throttling uploading the code"),
        (client_error("ThrottlingException", "Rate exceeded"), TransientError, "through 5 attempts"),
        (client_error("ServiceException", "internal", 500), TransientError, "server error (500 ServiceException"),
        (client_error("AccessDeniedException", "not allowed", 403), RefusedError, "grant the deploy role this permission"),
        (client_error("ExpiredTokenException", "expired", 403), RefusedError, "check the AWS credentials"),
        (boto_errors.EndpointConnectionError(endpoint_url="https://lambda"), ConnectionLost, "the connection to AWS was lost"),
        (boto_errors.ConnectTimeoutError(endpoint_url="https://lambda"), ConnectionLost, "the connection to AWS was lost"),
        (boto_errors.ConnectionClosedError(endpoint_url="https://lambda"), ConnectionLost, "ConnectionClosedError"),
        (boto_errors.ReadTimeoutError(endpoint_url="https://lambda"), ConnectionLost, "ReadTimeoutError"),
        (boto_errors.SSLError(endpoint_url="https://lambda", error="bad cert"), ConnectionLost, "running the deploy again is safe"),
        (boto_errors.ProxyConnectionError(proxy_url="http://proxy"), ConnectionLost, "the connection to AWS was lost"),
        (boto_errors.NoCredentialsError(), RefusedError, "role-to-assume"),
        (boto_errors.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"), RefusedError, "no usable AWS credentials"),
        (boto_errors.TokenRetrievalError(provider="sso", error_msg="expired"), RefusedError, "no usable AWS credentials"),
        (boto_errors.ProfileNotFound(profile="prod"), RefusedError, "no usable AWS credentials"),
        (boto_errors.NoRegionError(), InputError, "input 'aws-region'"),
        (boto_errors.ParamValidationError(report="Invalid length"), DeployError, "please report it"),
        (boto_errors.IncompleteReadError(actual_bytes=1, expected_bytes=2), DeployError, "uploading the code failed"),
    ],
)
def test_each_botocore_error_gets_a_deliberate_answer(error: Exception, kind: type[DeployError], says: str) -> None:
    answer = explain(error, "uploading the code", "function 'orders'")
    assert type(answer) is kind
    assert says in str(answer)


def test_only_what_may_pass_is_transient() -> None:
    """The kinds callers act on: a refusal or a guard is never retried as if it might pass."""
    assert isinstance(explain(client_error("DeploymentLimitExceededException"), "x", "y"), GroupBusy)
    for code in ("AccessDeniedException", "UnrecognizedClientException", "InvalidIdentityToken", "ResourceConflictException"):
        assert not isinstance(explain(client_error(code, status=403), "x", "y"), TransientError), code


def test_the_credentials_hint_speaks_to_where_the_user_is() -> None:
    answer = explain(boto_errors.NoCredentialsError(), "reading function 'orders'", "function 'orders'")
    assert answer is not None
    (problem,) = answer.problems
    assert "role-to-assume" in problem.render() and "this step" in problem.render()
    assert "aws sso login" in problem.render(terminal=True) and "this step" not in problem.render(terminal=True)


def test_a_region_problem_is_about_the_region_input() -> None:
    answer = explain(boto_errors.NoRegionError(), "reading function 'orders'", "function 'orders'")
    assert answer is not None and answer.problems[0].input == "aws-region"


def test_a_missing_service_model_is_a_bug_not_a_user_error() -> None:
    assert explain(boto_errors.UnknownServiceError(service_name="logs", known_service_names="lambda"), "x", "y") is None
    assert explain(ValueError("not botocore"), "x", "y") is None


def test_no_botocore_error_class_escapes_as_a_bug_by_accident() -> None:
    """Every exception class botocore defines is either answered or deliberately a bug."""
    deliberately_bugs = {"DataNotFoundError", "UnknownServiceError", "ApiVersionNotFoundError"}
    for name, cls in inspect.getmembers(boto_errors, inspect.isclass):
        if not issubclass(cls, boto_errors.BotoCoreError) or name in deliberately_bugs:
            continue
        instance: Any = cls.__new__(cls)
        Exception.__init__(instance, "simulated")
        instance.kwargs = {}
        assert isinstance(explain(instance, "x", "y"), DeployError), name


PLAN = Plan(
    "orders",
    "live",
    (UpdateCode("a", "b", None), UpdateConfiguration({"MemorySize": 256}, ()), PublishVersion("note"), PointAlias("live", "1", None, "r")),
    "a",
    "b",
    (),
    "1",
    None,
)


@pytest.mark.parametrize(
    ("index", "version", "state", "rerun"),
    [
        (0, "", "$LATEST may hold the new code, uploaded but not published; alias 'live' still points at version 1", "at most one version"),
        (1, "", "may hold part of the new configuration, not published", "nothing that landed is uploaded twice"),
        (2, "", "a version holding the new code may have been published, but no alias points at it", "at most one version"),
        (3, "2", "version 2 is published; alias 'live' may point at it already or still at version 1", "reuses version 2"),
    ],
)
def test_an_interrupted_plan_says_where_it_stopped_and_what_a_rerun_does(index: int, version: str, state: str, rerun: str) -> None:
    problem = interruption(PLAN, index, version)
    assert problem.what.startswith(f"stopped at step {index + 1} of 4 (")
    assert state in problem.hint and rerun in problem.hint


def test_an_interrupted_traffic_step_points_at_the_alias() -> None:
    shift = ShiftTraffic("live", "1", parse_strategy("canary 10% 5m"), "r", "")
    plan = Plan("orders", "live", (ReuseVersion("2"), SmokeTest("{}", None), shift), "a", "a", (), "1", "2")
    assert "no traffic had moved to it" in interruption(plan, 1, "2").hint
    assert "the error above says where the alias is" in interruption(plan, 2, "2").hint


@pytest.mark.parametrize("where", ["deployer.commands.functions.load_fleet_settings", "deployer.commands.functions.load_settings"])
def test_a_bug_while_reading_the_inputs_exits_2_and_says_so(where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit code 2 means a bug, with its traceback folded away, at every stage: reading the
    inputs included, before any AWS client exists."""

    def broken(*_: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(where, broken)
    log = io.StringIO()
    code, _ = main({"function-name": "orders", "alias": "live"}, {}, ConsoleIO(log))
    assert code == 2
    assert "internal error RuntimeError: a bug" in log.getvalue() and "bug in lambda-deploy" in log.getvalue()
