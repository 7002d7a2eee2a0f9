"""One way to start a Switchboard service: its command, and its environment built from
its settings class.

`make dev`, the end-to-end tests and the benchmarks all start services through this
module, and the Kubernetes manifests are checked against it (tests/e2e/test_e2e_manifests):
a setting is named here by its field name, checked against the service's settings class
and turned into `SWITCHBOARD_<SERVICE>_<FIELD>`, so a renamed or mistyped setting fails
before a process starts instead of being silently ignored by the child.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource

from servicekit.settings import ServiceSettings
from services.admin.settings import AdminSettings
from services.delivery.settings import DeliverySettings
from services.ingress.settings import IngressSettings
from services.routing.settings import RoutingSettings

ROOT = Path(__file__).resolve().parents[1]

SETTINGS: dict[str, type[ServiceSettings]] = {
    "ingress": IngressSettings,
    "routing": RoutingSettings,
    "delivery": DeliverySettings,
    "admin": AdminSettings,
}
SERVICES = tuple(SETTINGS)
# The ones with an HTTP port (webhooks, pushes, the REST API) besides gRPC.
HTTP_SERVICES = ("ingress", "delivery", "admin")
# Routing goes last when a stack stops: the others finish their work in flight by
# calling it (delivery reports outcomes, ingress records what is still gathering).
STOP_ORDER = ("ingress", "admin", "delivery", "routing")


class UnknownSetting(ValueError):
    """A name that is not a field of the service's settings class."""


def command(service: str, *, python: str = sys.executable) -> list[str]:
    """The command that starts `service` (the container image runs the same)."""
    _settings_class(service)
    return [python, "-m", f"services.{service}"]


def variable(service: str, name: str) -> str:
    """The environment variable for setting `name` of `service` (a field name, any case)."""
    cls = _settings_class(service)
    field_name = name.lower()
    if field_name not in cls.model_fields:
        raise UnknownSetting(f"{service} has no setting {name!r}")
    return f"{cls.model_config.get('env_prefix', '')}{field_name}".upper()


def variables(service: str) -> dict[str, str]:
    """Every environment variable `service` reads, by field name."""
    cls = _settings_class(service)
    return {name: variable(service, name) for name in cls.model_fields}


def environment(service: str, values: Mapping[str, object]) -> dict[str, str]:
    """The variables that give `service` these settings (by field name), after checking
    that the settings class accepts them."""
    env = {variable(service, name): _text(value) for name, value in values.items()}
    check(service, env)
    return env


def check(service: str, env: Mapping[str, str]) -> ServiceSettings:
    """Answer the settings `service` would read from `env` alone; raise if it would
    refuse them (pydantic's error names the variable) or `env` names an unknown one."""
    cls = _settings_class(service)
    known = set(variables(service).values())
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    stray = sorted(k for k in env if k.upper().startswith(prefix) and k.upper() not in known)
    if stray:
        raise UnknownSetting(f"{service} reads no variable {', '.join(stray)}")
    return _read(cls, env)


# Ports handed out by this process: a port is chosen before the service that binds it
# starts, so two stacks set up in a row must not be given the same one.
_HANDED_OUT: set[int] = set()
# Below Linux's ephemeral range (32768-60999): a port the kernel picks for an outgoing
# connection, or for a listener bound to port 0, can never be one chosen here while its
# service is still starting.
PORT_RANGE = (20000, 32767)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, outside the ephemeral range, not handed
    out before by this process."""
    for _ in range(1000):
        port = random.randint(*PORT_RANGE)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free port in {PORT_RANGE}")


@dataclass(frozen=True)
class Ports:
    """Where one service listens on this machine."""

    grpc: int
    http: int | None = None
    metrics: int | None = None

    @classmethod
    def free(cls, service: str, *, metrics: bool = True) -> Ports:
        """Ports the kernel says are free, for `service`'s listeners."""
        return cls(
            grpc=free_port(),
            http=free_port() if service in HTTP_SERVICES else None,
            metrics=free_port() if metrics else None,
        )


def one_machine(
    *,
    ports: Mapping[str, Ports],
    database_url: str,
    bot_api_base: str,
    tokens: Mapping[str, str],
    push_secret: str,
    webhook_secrets: Mapping[str, str] | None = None,
    log_level: str = "INFO",
    pool: Sequence[tuple[str, str, str]] = (),
) -> dict[str, dict[str, object]]:
    """Settings for the four services wired to each other on 127.0.0.1: routing on
    `database_url` with the local dispatcher, delivery and ingress with these bots
    (ingress polls when `webhook_secrets` is None), admin in front of routing. `pool`:
    further bots of the staff roles (role, token, webhook secret), for groups' pools."""
    routing = f"127.0.0.1:{ports['routing'].grpc}"
    bots: dict[str, object] = {f"{role}_token": token for role, token in tokens.items()}
    pooled: dict[str, list[str]] = {}
    for role, token, _ in pool:
        pooled.setdefault(role, []).append(token)
    served = [
        {"role": role, "token": token, **({"webhook_secret": s} if webhook_secrets else {})}
        for role, token, s in pool
    ]
    own: dict[str, dict[str, object]] = {
        "routing": {
            "database_url": database_url,
            "delivery_url": f"http://127.0.0.1:{ports['delivery'].http}",
            "push_secret": push_secret,
        },
        "delivery": {
            "routing_target": routing,
            "bot_api_base": bot_api_base,
            "push_secret": push_secret,
            **bots,
            **({"pool_tokens": pooled} if pool else {}),
        },
        "ingress": {
            "routing_target": routing,
            "bot_api_base": bot_api_base,
            "mode": "polling" if webhook_secrets is None else "webhook",
            **bots,
            **{f"{role}_webhook_secret": s for role, s in (webhook_secrets or {}).items()},
            **({"pool_bots": served} if pool else {}),
        },
        "admin": {"routing_target": routing},
    }
    for service, values in own.items():
        where = ports[service]
        values.update(log_level=log_level, grpc_port=where.grpc)
        if where.http is not None:
            values["http_port"] = where.http
        if where.metrics is not None:
            values["metrics_port"] = where.metrics
    return own


@dataclass
class Launcher:
    """Services started as processes with the settings given per service; each one's
    output goes to `<logs>/<service>.log`."""

    settings: dict[str, dict[str, object]]
    ports: Mapping[str, Ports]
    logs: Path
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    python: str = sys.executable
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def env(self, service: str) -> dict[str, str]:
        """The whole environment `service` starts with: the inherited one without any
        Switchboard variable (a developer's shell must not leak in), then its own."""
        return {**self._inherited(), **environment(service, self.settings.get(service, {}))}

    def _inherited(self) -> dict[str, str]:
        return {k: v for k, v in self.base_env.items() if not k.startswith("SWITCHBOARD_")}

    def start(self, service: str, *, env: Mapping[str, str] | None = None) -> subprocess.Popen:
        """Start `service`; its output is appended to its log. `env` (its variables, as
        a Kubernetes manifest gives them) replaces the settings, after the same check."""
        if env is None:
            full = self.env(service)
        else:
            check(service, env)
            full = {**self._inherited(), **env}
        # The child keeps its own copy of the file descriptor.
        with (self.logs / f"{service}.log").open("ab") as log:
            self.procs[service] = subprocess.Popen(
                command(service, python=self.python),
                env=full,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        return self.procs[service]

    def stop(self, service: str, *, kill: bool = False, timeout: float = 15.0) -> int | None:
        """Stop `service` (SIGTERM, or SIGKILL when `kill`); answer its exit status."""
        proc = self.procs.pop(service, None)
        if proc is None:
            return None
        if proc.poll() is None:
            (proc.kill if kill else proc.terminate)()
        return _reap(proc, timeout)

    def stop_all(self, timeout: float = 15.0) -> None:
        """SIGTERM every service, routing last; in parallel within each step, so a
        teardown costs the slowest stop, not the sum."""
        procs = dict(self.procs)
        self.procs.clear()
        first = [p for name, p in procs.items() if name != "routing"]
        last = [p for name, p in procs.items() if name == "routing"]
        for group in (first, last):
            for proc in group:
                if proc.poll() is None:
                    proc.terminate()
            for proc in group:
                _reap(proc, timeout)

    async def wait_ready(self, service: str, timeout: float = 30.0) -> None:
        """Wait until `service` reports SERVING on its gRPC health service (its
        readiness), or raise with the end of its log if it exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs[service]
            if proc.poll() is not None:
                raise RuntimeError(f"{service} exited ({proc.returncode}):\n{self.tail(service)}")
            if await grpc_serving(self.target(service)):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{service} did not become ready:\n{self.tail(service)}")

    def target(self, service: str) -> str:
        """host:port of `service`'s gRPC server."""
        return f"127.0.0.1:{self.ports[service].grpc}"

    def url(self, service: str) -> str:
        """The base URL of `service`'s HTTP server."""
        return f"http://127.0.0.1:{self.ports[service].http}"

    def metrics_url(self, service: str) -> str:
        """Where `service` serves /metrics."""
        return f"http://127.0.0.1:{self.ports[service].metrics}/metrics"

    def pids(self) -> dict[str, int]:
        """The running services' process ids."""
        return {name: p.pid for name, p in self.procs.items() if p.poll() is None}

    def tail(self, service: str, lines: int = 30) -> str:
        """The last lines of `service`'s log."""
        path = self.logs / f"{service}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def grpc_serving(target: str, *, service: str = "") -> bool:
    """Whether the gRPC health service at `target` says SERVING for `service`."""
    # Imported here: grpc is heavy and the pure helpers above do not need it.
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with grpc.aio.insecure_channel(target) as channel:
        try:
            answer = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=1
            )
        except grpc.aio.AioRpcError:
            return False
    return answer.status == health_pb2.HealthCheckResponse.SERVING


def _settings_class(service: str) -> type[ServiceSettings]:
    try:
        return SETTINGS[service]
    except KeyError:
        raise ValueError(f"no service {service!r} (one of {', '.join(SERVICES)})") from None


class _GivenEnvironment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping, not os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._given = {key.lower(): value for key, value in env.items()}
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return self._given


def _read(cls: type[ServiceSettings], env: Mapping[str, str]) -> ServiceSettings:
    class Given(cls):  # type: ignore[valid-type, misc]
        @classmethod
        def settings_customise_sources(
            cls, settings_cls: type[BaseSettings], *_sources: Any, **_named: Any
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (_GivenEnvironment(settings_cls, env),)

    return Given()


def _text(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if isinstance(value, dict | list | tuple):
        return json.dumps(_plain(value))
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _reap(proc: subprocess.Popen, timeout: float) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
