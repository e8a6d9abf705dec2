"""What Lambda publishes about an alias's traffic, in the sandbox: per-version metrics and REPORT lines.

CW1 percentiles: moto keeps every datapoint put (``Values`` x ``Counts`` as single values) but
   answers no percentile statistic; ``enable_percentiles`` makes its GetMetricData and
   GetMetricStatistics answer ``pNN`` / ``pNN.N`` from the values put, by nearest rank, as
   ``analysis.percentile_of`` defines it. (CloudWatch User Guide, "Percentiles": "p99 is the
   value below which 99% of the data points fall"; for a service's own metrics CloudWatch
   computes it from the values it received.)
T1 traffic: ``TrafficSimulator`` is a client calling through an alias, as production would: every
   tick it sends ``rate`` requests a second, split between the alias's versions by its routing
   weights as Lambda splits them, and publishes what Lambda publishes for invocations through an
   alias (namespace ``AWS/Lambda``, dimensions ``FunctionName``, ``Resource`` = ``NAME:ALIAS``,
   ``ExecutedVersion``): Invocations, Errors, Throttles and Duration, with each version's latency
   and error rate from its ``Profile``; a test changes a version's profile from a given moment
   (the new version turns slow, or starts failing). Each version's first request is a cold
   start: a ``REPORT`` line with ``Init Duration`` in the function's log group, in a stream named
   ``YYYY/MM/DD/[VERSION]...`` as Lambda names them. (Lambda Developer Guide, "Monitoring
   functions": per-version metrics are published only for invocations through an alias.)
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from ..analysis import percentile_of

NAMESPACE = "AWS/Lambda"
MAX_DISTINCT_VALUES = 150  # PutMetricData takes at most 150 distinct values in one datum


def enable_percentiles() -> None:
    """CW1: percentile statistics from the values put (moto answers None for them)."""
    from moto.cloudwatch.models import Statistics  # noqa: PLC0415 - moto loads when a sandbox starts

    if getattr(Statistics, "_lambda_deploy_percentiles", False):
        return
    answer = Statistics.get_statistics_for_type

    def with_percentiles(self: Any, stat: str) -> Any:
        if stat.startswith("p") and stat[1:].replace(".", "", 1).isdigit():
            return percentile_of(list(self.metric_single_values_list), stat)
        return answer(self, stat)

    setattr(Statistics, "get_statistics_for_type", with_percentiles)  # noqa: B010 - moto's own class, patched on purpose
    setattr(Statistics, "_lambda_deploy_percentiles", True)  # noqa: B010


@dataclass(frozen=True)
class Profile:
    latency: float = 100.0  # milliseconds, the median; requests spread around it
    error_rate: float = 0.0
    init: float = 180.0  # a cold start's Init Duration, milliseconds


class TrafficSimulator:
    """T1: requests through one alias, a few times a second, until stopped."""

    def __init__(
        self, endpoint: str, function: str, alias: str, region: str, rate: float = 40.0, tick: float = 0.25, seed: int = 7
    ) -> None:
        keys = {"endpoint_url": endpoint, "aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": region}
        self._lambda = boto3.client("lambda", **keys)
        self._cloudwatch = boto3.client("cloudwatch", **keys)
        self._logs = boto3.client("logs", **keys)
        self._function, self._alias, self._rate, self._tick = function, alias, rate, tick
        self._random = random.Random(seed)
        self._profiles: dict[str, list[tuple[float, Profile]]] = {}  # version -> [(from monotonic time, profile)]
        self._default = Profile()
        self._cold: set[str] = set()
        self._carry = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.served: Counter[str] = Counter()  # requests by version, for tests

    def profile(self, version: str, profile: Profile, after: float = 0.0) -> None:
        """From ``after`` seconds from now on, ``version`` answers as ``profile`` says."""
        with self._lock:
            self._profiles.setdefault(version, []).append((time.monotonic() + after, profile))

    def default(self, profile: Profile) -> None:
        """How every version without a profile of its own answers."""
        with self._lock:
            self._default = profile

    def start(self) -> TrafficSimulator:
        group = f"/aws/lambda/{self._function}"
        if not self._logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups"):
            self._logs.create_log_group(logGroupName=group)
        self._thread = threading.Thread(target=self._run, name="sandbox-traffic", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> TrafficSimulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _current(self, version: str) -> Profile:
        now = time.monotonic()
        with self._lock:
            chosen = self._default
            for since, profile in self._profiles.get(version, []):
                if since <= now:
                    chosen = profile
            return chosen

    def _run(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a function mid-creation has no alias yet: the next tick tries again
                continue

    def tick(self) -> None:
        """One tick's requests, split by the alias's weights, published as Lambda publishes them."""
        alias = self._lambda.get_alias(FunctionName=self._function, Name=self._alias)
        weights = dict((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
        shares = {**weights, alias["FunctionVersion"]: 1.0 - sum(weights.values())}
        self._carry += self._rate * self._tick
        requests, self._carry = int(self._carry), self._carry - int(self._carry)
        served = Counter(self._random.choices(list(shares), weights=list(shares.values()), k=requests)) if requests else Counter()
        data: list[dict[str, Any]] = []
        for version, count in served.items():
            profile = self._current(version)
            durations = [round(profile.latency * self._random.lognormvariate(0, 0.1), 1) for _ in range(count)]
            errors = sum(self._random.random() < profile.error_rate for _ in range(count))
            dimensions = [
                {"Name": "FunctionName", "Value": self._function},
                {"Name": "Resource", "Value": f"{self._function}:{self._alias}"},
                {"Name": "ExecutedVersion", "Value": version},
            ]
            spread = Counter(durations).most_common(MAX_DISTINCT_VALUES)
            data += [
                {"MetricName": "Invocations", "Dimensions": dimensions, "Value": count, "Unit": "Count"},
                {"MetricName": "Errors", "Dimensions": dimensions, "Value": errors, "Unit": "Count"},
                {"MetricName": "Throttles", "Dimensions": dimensions, "Value": 0, "Unit": "Count"},
                {
                    "MetricName": "Duration",
                    "Dimensions": dimensions,
                    "Values": [value for value, _ in spread],
                    "Counts": [float(times) for _, times in spread],
                    "Unit": "Milliseconds",
                },
            ]
            self.served[version] += count
            if version not in self._cold:
                self._cold.add(version)
                self._report(version, profile)
        if data:
            self._cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data)

    def _report(self, version: str, profile: Profile) -> None:
        """A cold start's REPORT line, in a new log stream of the version, as Lambda writes it."""
        now = datetime.now(UTC)
        stream = f"{now:%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"
        group = f"/aws/lambda/{self._function}"
        self._logs.create_log_stream(logGroupName=group, logStreamName=stream)
        line = (
            f"REPORT RequestId: {uuid.uuid4()}\tDuration: {profile.latency:.2f} ms\tBilled Duration: {round(profile.latency)} ms\t"
            f"Memory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: {profile.init:.2f} ms"
        )
        self._logs.put_log_events(
            logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": int(now.timestamp() * 1000), "message": line}]
        )
