"""Pure parts of production traffic: the weighted-routing rule check, SnapStart in the
fingerprint, and where concurrency and blue/green steps go in a plan."""

from __future__ import annotations

import pytest

from deployer.model import FunctionConfig
from deployer.planner import routing_problems
from tests.unit.test_planner import ROLE, config

OTHER_ROLE = ROLE + "-v2"
DLQ = "arn:aws:sqs:eu-west-1:123456789012:dlq"
DLQ2 = "arn:aws:sns:eu-west-1:123456789012:topic"


@pytest.mark.parametrize(
    ("stable", "role", "dead_letter", "problems"),
    [
        (config("3"), ROLE, "", []),
        (config("3", DeadLetterConfig={"TargetArn": DLQ}), ROLE, DLQ, []),
        (config("3"), OTHER_ROLE, "", [f"the execution role changes ({ROLE} → {OTHER_ROLE})"]),
        (config("3"), ROLE, DLQ, [f"the dead-letter queue changes (none → {DLQ})"]),
        (config("3", DeadLetterConfig={"TargetArn": DLQ}), ROLE, "", [f"the dead-letter queue changes ({DLQ} → none)"]),
        (config("3", DeadLetterConfig={"TargetArn": DLQ}), ROLE, DLQ2, [f"the dead-letter queue changes ({DLQ} → {DLQ2})"]),
        (
            config("3"),
            OTHER_ROLE,
            DLQ,
            [f"the execution role changes ({ROLE} → {OTHER_ROLE})", f"the dead-letter queue changes (none → {DLQ})"],
        ),
        (config("$LATEST"), ROLE, "", ["the alias points at $LATEST, which is not a published version"]),
    ],
)
def test_the_weighted_routing_rule(stable: FunctionConfig, role: str, dead_letter: str, problems: list[str]) -> None:
    assert routing_problems(stable, role, dead_letter) == problems


def test_snapstarts_optimization_status_is_state_not_configuration() -> None:
    latest = config(SnapStart={"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"})
    version = config("4", SnapStart={"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"})
    assert latest.fingerprint == version.fingerprint and latest.snap_start == "PublishedVersions"
    assert config(SnapStart={"ApplyOn": "None"}).fingerprint != latest.fingerprint
