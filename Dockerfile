# The image Taxiway's meta-workflows run in: flytekit, the docker SDK, boto3, slack-sdk, requests
# and the Taxiway code, installed into a venv that is on PATH. No torch: pipelines bring their own.
#
#   docker build -t taxiway:dev .     anywhere pip reaches PyPI
#   scripts/build-image               on the local stack (local base image, host network, host CA)
#
# Two optional files in the build context, each used only when present and never copied into the
# final image:
#   .build-ca.pem              CA bundle for a TLS-intercepting proxy in front of PyPI
#   .build-constraints.txt     pip constraints (e.g. a known-good `pip freeze`): pins the resolution,
#                              which otherwise backtracks for minutes over boto3/botocore/aiobotocore
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# pyproject.toml always matches; the brackets make the other two optional (a pattern may match nothing).
COPY pyproject.toml .build-ca.pe[m] .build-constraints.tx[t] ./
# Dependencies first, read from pyproject.toml, so that a code-only change reuses this layer.
RUN if [ -f .build-ca.pem ]; then export PIP_CERT=/src/.build-ca.pem; fi \
 && python3 -m venv /opt/venv \
 && python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
      > requirements.txt \
 && if [ -f .build-constraints.txt ]; then set -- -c .build-constraints.txt; fi \
 && /opt/venv/bin/pip install -r requirements.txt "$@"
# README.md is optional for the build; pyproject.toml makes the pattern match something.
COPY pyproject.toml README.m[d] ./
COPY taxiway ./taxiway
COPY tasks ./tasks
COPY meta_workflows ./meta_workflows
COPY launchplans ./launchplans
COPY localflyte ./localflyte
RUN if [ -f .build-ca.pem ]; then export PIP_CERT=/src/.build-ca.pem; fi \
 && /opt/venv/bin/pip install --no-deps . \
 && /opt/venv/bin/python -c 'import flytekit, docker, boto3, slack_sdk, requests, taxiway'

FROM ${BASE_IMAGE}
# fetch_source clones with git. The local stack's base image has it already (no network needed);
# python:3.11-slim does not, and gets git alone, without recommends or apt lists.
RUN command -v git >/dev/null 2>&1 \
 || { apt-get update && apt-get install -y --no-install-recommends git ca-certificates \
      && rm -rf /var/lib/apt/lists/*; }
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH VIRTUAL_ENV=/opt/venv PYTHONUNBUFFERED=1
WORKDIR /root
