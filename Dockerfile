# The action's image. The runner builds it with no build args, so the default base
# applies; tests on machines without a registry pass a locally imported base instead.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

# No venv: a venv brings its own pip (and on older Pythons setuptools), about 25 MB
# the action does not need. The base image's pip installs the hash-pinned lock beside
# entrypoint.py, whose folder Python puts on sys.path, and stays the one pip that the
# requirements input runs (pip's --target skips the externally-managed check).
# Then only the botocore service data this action uses is kept (28 MB -> about 2 MB):
# a client for a removed service would fail with UnknownServiceError, and the
# container test makes every client the action uses to prove none is missing.
COPY requirements.lock /tmp/requirements.lock
RUN python3 -m pip install --quiet --target /app --require-hashes --no-deps -r /tmp/requirements.lock \
 && rm -rf /tmp/requirements.lock /app/bin \
 && cd /app/botocore/data \
 && find . -mindepth 1 -maxdepth 1 -type d \
      ! -name lambda ! -name sts ! -name s3 ! -name cloudwatch ! -name codedeploy ! -name ecr ! -name logs \
      ! -name iam ! -name sso ! -name sso-oidc -exec rm -rf {} +

COPY deployer /app/deployer
COPY entrypoint.py /app/entrypoint.py
# The CLI's --help is each input's description here; the action reads nothing else from it.
COPY action.yml /app/action.yml

# Exec form, calling Python directly: /bin/sh (dash) would drop INPUT_FUNCTION-NAME
# and every other variable whose name contains a hyphen.
ENTRYPOINT ["python3", "/app/entrypoint.py"]
