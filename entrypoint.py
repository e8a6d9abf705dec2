"""The container action's entry point: the runner's environment -> the dispatcher -> the exit code.

The runner passes inputs as ``INPUT_<ID>`` variables and reads outputs from the file named by
``GITHUB_OUTPUT``. The ``command`` input names the command. Exit codes: 0 done, 1 a deploy or
input error (shown as ``::error::``), 2 a bug in lambda-deploy, 3 ``diff`` found a difference.
"""

from __future__ import annotations

import os
import sys


def run() -> int:
    # Imported here, not at the top: the package is found only once __main__ has put this
    # folder on sys.path, and importing this module must do nothing (no side effects).
    from deployer.app import main  # noqa: PLC0415
    from deployer.github import ActionsIO  # noqa: PLC0415
    from deployer.settings import inputs_from_env  # noqa: PLC0415

    env = dict(os.environ)
    code, _ = main(inputs_from_env(env), env, ActionsIO(env))
    return int(code)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(run())
