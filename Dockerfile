# syntax=docker/dockerfile:1
# One image for the four services; the command picks one:
#   python -m services.ingress | services.routing | services.delivery | services.admin
# and the one-off commands (python -m services.routing.api.migrations_cli upgrade, ...). See docs/deploy.md.
#
# `make check-deploy` runs the install steps below in a scratch virtualenv (no Docker
# engine is needed for that); keep the two in step.

# Pinned by tag (what it is) and by the digest of its multi-architecture index (exactly
# which build): the tag alone is rebuilt upstream for every Debian fix. To move on, take
# a newer tag and its index digest (`docker buildx imagetools inspect TAG`).
FROM python:3.11.16-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91 AS python

FROM python AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Dependencies first (their layer survives code changes). Every one is a wheel named in
# the lock and checked against its hashes; --no-deps: nothing is resolved here, so the
# image holds exactly the lock; --only-binary: nothing is compiled (no compilers here).
# The runtime venv gets no pip or setuptools of its own: the build venv's pip installs
# into it (--python).
COPY requirements.lock requirements-build.lock ./
RUN python -m venv /opt/build \
    && /opt/build/bin/pip install --require-hashes --no-deps --only-binary=:all: \
        -r requirements-build.lock \
    && python -m venv --without-pip /opt/venv \
    && /opt/build/bin/pip --python /opt/venv/bin/python install \
        --require-hashes --no-deps --only-binary=:all: -r requirements.lock

# The project itself, as a wheel built with the locked setuptools, without its deps
# (they came from the lock above). The Bot API sandbox stays out: it is for dev and tests.
COPY pyproject.toml ./
COPY servicekit ./servicekit
COPY services ./services
COPY switchboard ./switchboard
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/wheels . \
    && /opt/build/bin/pip --python /opt/venv/bin/python install --no-deps /tmp/wheels/switchboard-*.whl \
    && /opt/build/bin/pip --python /opt/venv/bin/python check

FROM python AS runtime
# A named user for tools that look one up; the manifests run as the same numbers.
RUN groupadd --system --gid 10001 switchboard \
    && useradd --system --no-log-init --uid 10001 --gid 10001 --no-create-home \
        --home-dir /tmp --shell /usr/sbin/nologin switchboard
# Only the venv (dependencies and the project's code) comes from the builder.
COPY --from=builder /opt/venv /opt/venv
# The root filesystem is read-only in Kubernetes: no .pyc writes, and HOME is /tmp,
# the only writable place (an emptyDir there).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
WORKDIR /tmp
USER 10001:10001
# No HEALTHCHECK: Kubernetes probes each service on its own port and path (deploy/k8s),
# and one image serves four services with different ones.
# checkov:skip=CKV_DOCKER_2:Kubernetes probes each service; one image, four health ports
# No ENTRYPOINT: the command picks the service. Without one, say so instead of starting
# the base image's Python prompt.
CMD ["python", "-c", "raise SystemExit('run one of: python -m services.ingress | services.routing | services.delivery | services.admin')"]
