"""A local AWS for the demo and the tests: moto's server behind the fidelity layer.

Contract: ``Sandbox`` starts moto's WSGI app on a loopback port chosen by the OS,
wrapped in ``LambdaFidelity`` (the Lambda rules moto lacks, see ``fidelity``), then
``CodeDeployModel`` (Lambda deployments that run: traffic shifts, hooks, alarms and
rollbacks, see ``codedeploy``) and, outermost, ``Network`` (faults and latency aimed at exact requests, see ``network``),
with Lambda's Docker-free backend. ``env()`` gives dummy credentials, a region and
``AWS_ENDPOINT_URL`` pointing at it, so a process using that environment can never
reach real AWS. moto is a development dependency; the action's image does not need it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.request
from types import TracebackType
from typing import Any

from .codedeploy import CodeDeployModel
from .fidelity import LambdaFidelity
from .metrics import TrafficSimulator, enable_percentiles
from .network import Network

REGION = "us-east-1"
ACCOUNT = "123456789012"


class Sandbox:
    def __init__(self, in_progress_reads: int = 2) -> None:
        self._in_progress_reads = in_progress_reads
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.fidelity: LambdaFidelity | None = None
        self.codedeploy: CodeDeployModel | None = None
        self.network: Network | None = None

    def start(self) -> Sandbox:
        # Deferred: moto takes a second to load, and only a started sandbox needs it.
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: PLC0415
        from werkzeug.serving import make_server  # noqa: PLC0415

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request lines
        enable_percentiles()  # CW1 (see metrics)
        # I1 (see fidelity): images are resolved in moto's ECR, and their digest is the CodeSha256.
        os.environ["MOTO_LAMBDA_STUB_ECR"] = "false"
        self.fidelity = LambdaFidelity(DomainDispatcherApplication(create_backend_app), self._in_progress_reads)
        self.codedeploy = CodeDeployModel(self.fidelity, lambda: self.endpoint, REGION)
        self.network = Network(self.codedeploy)
        self._server = make_server("127.0.0.1", 0, self.network, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-sandbox", daemon=True)
        self._thread.start()
        self.use_docker_backend(False)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        """Forget every resource (moto's and the fidelity layer's)."""
        self._post("/moto-api/reset", {})
        self.use_docker_backend(False)
        if self.fidelity is not None:
            self.fidelity.reset()
        if self.codedeploy is not None:
            self.codedeploy.reset()
        if self.network is not None:
            self.network.reset()

    def use_docker_backend(self, enabled: bool) -> None:
        """Select moto's Lambda backend: the Docker-free one unless a test needs the other
        (moto 5.2 keeps layers only in the Docker backend)."""
        self._post("/moto-api/config", {"lambda": {"use_docker": enabled}})

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def traffic(self, function: str, alias: str, region: str = "us-east-1", rate: float = 40.0) -> TrafficSimulator:
        """T1: requests through ``function:alias`` a few times a second once started (see ``metrics``)."""
        return TrafficSimulator(self.endpoint, function, alias, region, rate)

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }

    def _post(self, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(self.endpoint + path, data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
