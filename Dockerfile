# The action's image. The runner builds it with no build args, so the default base
# applies; tests on machines without a registry pass a locally imported base instead.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

COPY requirements.lock /app/requirements.lock
# Hash-pinned install into a venv, then keep only the botocore service data this
# action uses (28 MB -> about 2 MB). A client for a removed service would fail with
# UnknownServiceError, and the container test runs the real clients to prove it.
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --require-hashes --no-deps -r /app/requirements.lock \
 && cd /opt/venv/lib/python3*/site-packages/botocore/data \
 && find . -mindepth 1 -maxdepth 1 -type d \
      ! -name lambda ! -name sts ! -name s3 ! -name cloudwatch ! -name codedeploy \
      ! -name iam ! -name sso ! -name sso-oidc -exec rm -rf {} +

COPY deployer /app/deployer
COPY entrypoint.py /app/entrypoint.py
# The CLI's --help is each input's description here; the action reads nothing else from it.
COPY action.yml /app/action.yml

# Exec form, calling Python directly: /bin/sh (dash) would drop INPUT_FUNCTION-NAME
# and every other variable whose name contains a hyphen.
ENTRYPOINT ["/opt/venv/bin/python", "/app/entrypoint.py"]
