"""The fidelity layer's own rules: each must hold, or the deployer's tests prove nothing."""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_zip


def code_of(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def create(lambda_client: Any, role_arn: str) -> dict[str, Any]:
    return dict(
        lambda_client.create_function(
            FunctionName="f", Runtime="python3.12", Role=role_arn, Handler="a.h", Code={"ZipFile": make_zip({"a.py": "1"})}
        )
    )


def settle(lambda_client: Any) -> dict[str, Any]:
    for _ in range(5):
        config = dict(lambda_client.get_function_configuration(FunctionName="f"))
        if config["LastUpdateStatus"] == "Successful" and config["State"] == "Active":
            return config
    raise AssertionError("never settled")


def test_r1_pending_then_active_and_in_progress_then_successful(lambda_client: Any, role_arn: str) -> None:
    created = create(lambda_client, role_arn)
    assert (created["State"], created["LastUpdateStatus"]) == ("Pending", "InProgress")
    assert lambda_client.get_function(FunctionName="f")["Configuration"]["State"] == "Pending"
    settle(lambda_client)
    updated = lambda_client.update_function_configuration(FunctionName="f", MemorySize=256)
    assert updated["LastUpdateStatus"] == "InProgress"
    assert lambda_client.get_function_configuration(FunctionName="f")["LastUpdateStatus"] == "InProgress"
    assert settle(lambda_client)["MemorySize"] == 256


def test_r2_overlapping_updates_get_409(lambda_client: Any, role_arn: str) -> None:
    create(lambda_client, role_arn)
    for call in (
        lambda: lambda_client.update_function_code(FunctionName="f", ZipFile=make_zip({"a.py": "2"})),
        lambda: lambda_client.update_function_configuration(FunctionName="f", Timeout=9),
        lambda: lambda_client.publish_version(FunctionName="f"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert code_of(caught) == "ResourceConflictException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_r3_stale_revision_ids_get_412(lambda_client: Any, role_arn: str) -> None:
    create(lambda_client, role_arn)
    before = settle(lambda_client)["RevisionId"]
    lambda_client.update_function_configuration(FunctionName="f", Timeout=9)
    after = settle(lambda_client)["RevisionId"]
    assert before != after
    with pytest.raises(ClientError) as caught:
        lambda_client.update_function_code(FunctionName="f", ZipFile=make_zip({"a.py": "3"}), RevisionId=before)
    assert code_of(caught) == "PreconditionFailedException"
    with pytest.raises(ClientError) as caught:
        lambda_client.publish_version(FunctionName="f", RevisionId=before)
    assert code_of(caught) == "PreconditionFailedException"
    assert lambda_client.publish_version(FunctionName="f", RevisionId=after)["Version"] == "1"
    alias = lambda_client.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    lambda_client.update_alias(FunctionName="f", Name="live", Description="moved", RevisionId=alias["RevisionId"])
    with pytest.raises(ClientError) as caught:
        lambda_client.update_alias(FunctionName="f", Name="live", FunctionVersion="1", RevisionId=alias["RevisionId"])
    assert code_of(caught) == "PreconditionFailedException"


def test_r4_publish_with_a_different_code_sha_gets_the_live_services_400(lambda_client: Any, role_arn: str) -> None:
    current = create(lambda_client, role_arn)["CodeSha256"]
    settle(lambda_client)
    with pytest.raises(ClientError) as caught:
        lambda_client.publish_version(FunctionName="f", CodeSha256="c29tZW9uZSBlbHNlJ3MgY29kZQ==")
    assert code_of(caught) == "InvalidParameterValueException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["Error"]["Message"] == (
        f"CodeSHA256 (c29tZW9uZSBlbHNlJ3MgY29kZQ==) is different from current CodeSHA256 in $LATEST ({current}). "
        "Please try again with the CodeSHA256 in $LATEST."
    )
    assert [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName="f")["Versions"]] == ["$LATEST"]


@pytest.mark.parametrize(
    ("name", "version", "weights", "code"),
    [
        ("123", "1", {}, "ValidationException"),
        ("bad/name", "1", {}, "ValidationException"),
        ("ok", "1", {"2": 1.5}, "ValidationException"),
        ("ok", "1", {"2": 0.0}, "ValidationException"),
        ("ok", "1", {"1": 0.5}, "InvalidParameterValueException"),
        ("ok", "1", {"2": 0.1, "3": 0.1}, "InvalidParameterValueException"),
    ],
)
def test_r5_alias_validation(lambda_client: Any, role_arn: str, name: str, version: str, weights: dict[str, float], code: str) -> None:
    create(lambda_client, role_arn)
    with pytest.raises(ClientError) as caught:
        lambda_client.create_alias(
            FunctionName="f", Name=name, FunctionVersion=version, RoutingConfig={"AdditionalVersionWeights": weights}
        )
    assert code_of(caught) == code


def test_r6_publishing_nothing_new_returns_the_last_version(lambda_client: Any, role_arn: str) -> None:
    create(lambda_client, role_arn)
    settle(lambda_client)
    assert lambda_client.publish_version(FunctionName="f")["Version"] == "1"
    lambda_client.update_function_code(FunctionName="f", ZipFile=make_zip({"a.py": "1"}))  # identical bytes again
    settle(lambda_client)
    assert lambda_client.publish_version(FunctionName="f")["Version"] == "1"
    lambda_client.update_function_configuration(FunctionName="f", Timeout=10)
    settle(lambda_client)
    assert lambda_client.publish_version(FunctionName="f")["Version"] == "2"


def test_r7_invoke_reports_the_executed_version(lambda_client: Any, role_arn: str) -> None:
    create(lambda_client, role_arn)
    settle(lambda_client)
    lambda_client.publish_version(FunctionName="f")
    lambda_client.update_function_configuration(FunctionName="f", Timeout=10)
    settle(lambda_client)
    lambda_client.publish_version(FunctionName="f")
    assert lambda_client.invoke(FunctionName="f", Qualifier="2", Payload=b"{}")["ExecutedVersion"] == "2"
    lambda_client.create_alias(FunctionName="f", Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    seen = {lambda_client.invoke(FunctionName="f", Qualifier="live", Payload=b"{}")["ExecutedVersion"] for _ in range(20)}
    assert seen == {"1", "2"}


def test_r8_creating_an_alias_that_exists_is_a_resource_conflict(lambda_client: Any, role_arn: str) -> None:
    create(lambda_client, role_arn)
    settle(lambda_client)
    lambda_client.publish_version(FunctionName="f")
    lambda_client.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as caught:
        lambda_client.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    assert code_of(caught) == "ResourceConflictException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def published(lambda_client: Any, role_arn: str, count: int) -> None:
    create(lambda_client, role_arn)
    settle(lambda_client)
    for timeout in range(count):
        if timeout:
            lambda_client.update_function_configuration(FunctionName="f", Timeout=timeout + 3)
            settle(lambda_client)
        lambda_client.publish_version(FunctionName="f")


def test_r9_versions_and_aliases_come_in_pages_of_50(lambda_client: Any, role_arn: str) -> None:
    published(lambda_client, role_arn, 55)
    first = lambda_client.list_versions_by_function(FunctionName="f")
    assert len(first["Versions"]) == 50 and first["NextMarker"]
    rest = lambda_client.list_versions_by_function(FunctionName="f", Marker=first["NextMarker"])
    assert len(rest["Versions"]) == 6 and "NextMarker" not in rest  # 55 versions and $LATEST
    assert len(lambda_client.list_versions_by_function(FunctionName="f", MaxItems=10)["Versions"]) == 10


def test_r10_a_version_an_alias_references_cannot_be_deleted(lambda_client: Any, role_arn: str) -> None:
    published(lambda_client, role_arn, 3)
    lambda_client.create_alias(FunctionName="f", Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    for version in ("1", "2"):
        with pytest.raises(ClientError) as caught:
            lambda_client.delete_function(FunctionName="f", Qualifier=version)
        assert code_of(caught) == "ResourceConflictException" and "[live]" in caught.value.response["Error"]["Message"]
    lambda_client.delete_function(FunctionName="f", Qualifier="3")
    lambda_client.delete_alias(FunctionName="f", Name="live")
    lambda_client.delete_function(FunctionName="f", Qualifier="1")  # nothing references it now
    assert [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName="f")["Versions"]] == ["$LATEST", "2"]


def test_u1_function_urls_are_per_alias(lambda_client: Any, role_arn: str) -> None:
    published(lambda_client, role_arn, 1)
    with pytest.raises(ClientError) as caught:
        lambda_client.create_function_url_config(FunctionName="f", Qualifier="nope", AuthType="AWS_IAM")
    assert code_of(caught) == "ResourceNotFoundException"
    for name in ("a", "b"):
        lambda_client.create_alias(FunctionName="f", Name=name, FunctionVersion="1")
        lambda_client.create_function_url_config(FunctionName="f", Qualifier=name, AuthType="AWS_IAM")
    a, b = (lambda_client.get_function_url_config(FunctionName="f", Qualifier=n) for n in ("a", "b"))
    assert a["FunctionUrl"] != b["FunctionUrl"] and a["FunctionArn"].endswith(":f:a")
    with pytest.raises(ClientError) as caught:
        lambda_client.create_function_url_config(FunctionName="f", Qualifier="a", AuthType="NONE")
    assert code_of(caught) == "ResourceConflictException"
    assert lambda_client.update_function_url_config(FunctionName="f", Qualifier="a", AuthType="NONE")["AuthType"] == "NONE"
    lambda_client.delete_alias(FunctionName="f", Name="a")  # the URL stays behind: a partial state cleanup meets
    assert lambda_client.get_function_url_config(FunctionName="f", Qualifier="a")["AuthType"] == "NONE"
    lambda_client.delete_function_url_config(FunctionName="f", Qualifier="a")
    with pytest.raises(ClientError) as caught:
        lambda_client.delete_function_url_config(FunctionName="f", Qualifier="a")
    assert code_of(caught) == "ResourceNotFoundException"


def test_p1_resource_policies_are_per_alias(lambda_client: Any, role_arn: str) -> None:
    published(lambda_client, role_arn, 1)
    lambda_client.create_alias(FunctionName="f", Name="a", FunctionVersion="1")
    with pytest.raises(ClientError) as caught:
        lambda_client.get_policy(FunctionName="f", Qualifier="a")
    assert code_of(caught) == "ResourceNotFoundException"
    grant = {"FunctionName": "f", "Qualifier": "a", "StatementId": "s1", "Action": "lambda:InvokeFunctionUrl", "Principal": "*"}
    lambda_client.add_permission(**grant, FunctionUrlAuthType="NONE")
    with pytest.raises(ClientError) as caught:
        lambda_client.add_permission(**grant)
    assert code_of(caught) == "ResourceConflictException"
    statement = json.loads(lambda_client.get_policy(FunctionName="f", Qualifier="a")["Policy"])["Statement"][0]
    assert statement["Resource"].endswith(":f:a") and statement["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    with pytest.raises(ClientError):
        lambda_client.get_policy(FunctionName="f")  # $LATEST has its own policy: empty
    lambda_client.remove_permission(FunctionName="f", Qualifier="a", StatementId="s1")
    with pytest.raises(ClientError) as caught:
        lambda_client.remove_permission(FunctionName="f", Qualifier="a", StatementId="s1")
    assert code_of(caught) == "ResourceNotFoundException"


def test_r11_weighted_versions_need_the_same_role_and_dead_letter_queue(lambda_client: Any, role_arn: str, sandbox: Any) -> None:
    published(lambda_client, role_arn, 2)
    lambda_client.create_alias(FunctionName="f", Name="ok", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    other = role_arn.replace("deploy-test", "other")
    lambda_client.update_function_configuration(FunctionName="f", Role=other)
    settle(lambda_client)
    lambda_client.publish_version(FunctionName="f")  # version 3: another role
    lambda_client.update_function_configuration(
        FunctionName="f", Role=role_arn, DeadLetterConfig={"TargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq"}
    )
    settle(lambda_client)
    lambda_client.publish_version(FunctionName="f")  # version 4: the first role, but a dead-letter queue
    for weighted in ("3", "4"):
        with pytest.raises(ClientError) as caught:
            lambda_client.create_alias(
                FunctionName="f", Name=f"w{weighted}", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {weighted: 0.1}}
            )
        assert code_of(caught) == "InvalidParameterValueException" and "same execution role" in caught.value.response["Error"]["Message"]
    lambda_client.create_alias(FunctionName="f", Name="plain", FunctionVersion="3")  # without weights, anything goes


def test_r13_r14_snapstart_and_the_dead_letter_queue_are_kept_and_versions_snapshot(lambda_client: Any, role_arn: str) -> None:
    lambda_client.create_function(
        FunctionName="f", Runtime="python3.12", Role=role_arn, Handler="a.h", Code={"ZipFile": make_zip({"a.py": "1"})},
        SnapStart={"ApplyOn": "PublishedVersions"}, DeadLetterConfig={"TargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq"},
    )  # fmt: skip
    latest = settle(lambda_client)
    assert latest["SnapStart"]["ApplyOn"] == "PublishedVersions" and latest["DeadLetterConfig"]["TargetArn"].endswith(":dlq")
    version = lambda_client.publish_version(FunctionName="f")
    assert version["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    states = [lambda_client.get_function_configuration(FunctionName="f", Qualifier="1")["State"] for _ in range(4)]
    assert states[0] == "Pending" and states[-1] == "Active"  # the snapshot takes a few reads
    lambda_client.update_function_configuration(FunctionName="f", SnapStart={"ApplyOn": "None"}, DeadLetterConfig={"TargetArn": ""})
    latest = settle(lambda_client)
    assert latest["SnapStart"]["ApplyOn"] == "None" and "DeadLetterConfig" not in latest
    assert lambda_client.publish_version(FunctionName="f")["Version"] == "2"  # SnapStart is configuration: a new version


def test_c1_provisioned_concurrency_goes_in_progress_then_ready_and_can_fail(lambda_client: Any, role_arn: str, sandbox: Any) -> None:
    published(lambda_client, role_arn, 2)
    lambda_client.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as caught:
        lambda_client.get_provisioned_concurrency_config(FunctionName="f", Qualifier="live")
    assert code_of(caught) == "ProvisionedConcurrencyConfigNotFoundException"
    with pytest.raises(ClientError) as caught:
        lambda_client.put_provisioned_concurrency_config(FunctionName="f", Qualifier="$LATEST", ProvisionedConcurrentExecutions=2)
    assert code_of(caught) == "InvalidParameterValueException"
    assert (
        lambda_client.put_provisioned_concurrency_config(FunctionName="f", Qualifier="live", ProvisionedConcurrentExecutions=4)["Status"]
        == "IN_PROGRESS"
    )

    def statuses(count: int) -> list[str]:
        return [lambda_client.get_provisioned_concurrency_config(FunctionName="f", Qualifier="live")["Status"] for _ in range(count)]

    assert statuses(4) == ["IN_PROGRESS", "IN_PROGRESS", "READY", "READY"]
    lambda_client.update_alias(FunctionName="f", Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    assert statuses(3) == ["IN_PROGRESS", "IN_PROGRESS", "READY"]  # re-split between the two versions
    sandbox.fidelity.provisioned_failure = "not enough unreserved concurrency"
    failed = lambda_client.get_provisioned_concurrency_config(FunctionName="f", Qualifier="live")
    assert (failed["Status"], failed["StatusReason"]) == ("FAILED", "not enough unreserved concurrency")
    lambda_client.delete_provisioned_concurrency_config(FunctionName="f", Qualifier="live")
    with pytest.raises(ClientError):
        lambda_client.get_provisioned_concurrency_config(FunctionName="f", Qualifier="live")


def _publish_after_update(lambda_client: Any, code: str) -> str:
    lambda_client.update_function_code(FunctionName="f", ZipFile=make_zip({"a.py": code}))
    settle(lambda_client)
    return str(lambda_client.publish_version(FunctionName="f")["Version"])


def test_r15_version_numbers_are_never_reused(lambda_client: Any, role_arn: str) -> None:
    create(lambda_client, role_arn)
    settle(lambda_client)
    assert lambda_client.publish_version(FunctionName="f")["Version"] == "1"
    assert _publish_after_update(lambda_client, "2") == "2"
    lambda_client.delete_function(FunctionName="f", Qualifier="2")
    # moto alone numbers this len(versions) + 1 = 2 again; Lambda counts on.
    assert _publish_after_update(lambda_client, "3") == "3"
    lambda_client.delete_function(FunctionName="f", Qualifier="3")
    lambda_client.delete_function(FunctionName="f", Qualifier="1")
    # Nothing changed since version 3, but version 3 is gone: Lambda publishes (4), moto would hand back version 1.
    published = lambda_client.publish_version(FunctionName="f")
    assert published["Version"] == "4" and published["CodeSha256"] == settle(lambda_client)["CodeSha256"]
    listed = [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName="f")["Versions"]]
    assert listed == ["$LATEST", "4"]
    assert lambda_client.get_function_configuration(FunctionName="f", Qualifier="4")["FunctionArn"].endswith(":f:4")
    lambda_client.create_alias(FunctionName="f", Name="live", FunctionVersion="4")
    assert lambda_client.get_alias(FunctionName="f", Name="live")["FunctionVersion"] == "4"


def test_r16_every_function_reports_a_logging_config(lambda_client: Any, role_arn: str) -> None:
    create(lambda_client, role_arn)
    assert settle(lambda_client)["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/f"}
    lambda_client.update_function_configuration(FunctionName="f", LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "WARN"})
    assert settle(lambda_client)["LoggingConfig"] == {
        "LogFormat": "JSON",
        "LogGroup": "/aws/lambda/f",
        "ApplicationLogLevel": "WARN",
        "SystemLogLevel": "INFO",  # JSON logs report the default level of what was not sent
    }
    version = lambda_client.publish_version(FunctionName="f")["Version"]
    assert lambda_client.get_function_configuration(FunctionName="f", Qualifier=version)["LoggingConfig"]["LogFormat"] == "JSON"


def test_r17_the_code_location_serves_the_package(lambda_client: Any, role_arn: str) -> None:

    create(lambda_client, role_arn)
    location = lambda_client.get_function(FunctionName="f")["Code"]["Location"]
    with urllib.request.urlopen(location, timeout=10) as answer:
        assert zipfile.ZipFile(io.BytesIO(answer.read())).read("a.py") == b"1"
    settle(lambda_client)
    version = lambda_client.publish_version(FunctionName="f")["Version"]
    _publish_after_update(lambda_client, "2")
    old = lambda_client.get_function(FunctionName="f", Qualifier=version)["Code"]["Location"]
    with urllib.request.urlopen(old, timeout=10) as answer:
        assert zipfile.ZipFile(io.BytesIO(answer.read())).read("a.py") == b"1"
