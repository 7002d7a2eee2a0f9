"""The rendered Kubernetes manifests read as a plan for starting the services here: each
Deployment's container command, its environment (ConfigMap values, Secret references to
fill), its ports and probes, and the Services other pods reach it by.

Kubernetes gives every pod its own network namespace; on one machine the four services
cannot all bind 9090, so each declared container port is mapped to a free local port.
The mapping is checked, not assumed: a port setting in the ConfigMap must equal the
containerPort it is declared as, and an address of another service must name that
Service and a port that leads to the right containerPort.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deploy.launcher import ROOT, SERVICES, free_port, variable

OVERLAYS = ROOT / "deploy" / "k8s" / "overlays"
PORT_SETTINGS = {"grpc": "grpc_port", "http": "http_port", "metrics": "metrics_port"}
# Settings that hold another service's address (host:port, a URL, or a public URL the
# Ingress routes), the service it must lead to, and the path the caller adds to it.
ADDRESS_SETTINGS = {
    "routing_target": ("routing", ""),
    "delivery_url": ("delivery", "/push/"),
    "public_url": ("ingress", "/webhook/"),
}
ADDRESS = re.compile(r"(?P<scheme>https?://)?(?P<host>[^:/]+):(?P<port>\d+)(?P<rest>/.*)?")


def render(overlay: str) -> list[dict[str, Any]]:
    """`kubectl kustomize` of an overlay, as a list of objects."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise FileNotFoundError("kubectl")
    out = subprocess.run(
        [kubectl, "kustomize", str(OVERLAYS / overlay)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@dataclass
class Probe:
    """A probe as declared: kind (liveness/readiness/startup) and what it asks."""

    kind: str
    port: int  # the containerPort
    http_path: str | None = None
    grpc_service: str | None = None


@dataclass
class Container:
    """One service's container, read from its Deployment (or the migration Job)."""

    service: str
    command: list[str]
    plain_env: dict[str, str] = field(default_factory=dict)
    secret_env: dict[str, tuple[str, str]] = field(default_factory=dict)  # var -> (secret, key)
    ports: dict[str, int] = field(default_factory=dict)  # name -> containerPort
    probes: list[Probe] = field(default_factory=list)


class Manifests:
    """The objects of one rendered overlay, looked up by kind and name."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.objects = objects

    def of_kind(self, kind: str) -> Iterator[dict[str, Any]]:
        return (o for o in self.objects if o["kind"] == kind)

    def named(self, kind: str, name: str) -> dict[str, Any]:
        for obj in self.of_kind(kind):
            if obj["metadata"]["name"] == name:
                return obj
        raise KeyError(f"no {kind} {name}")

    def deployment(self, service: str) -> dict[str, Any]:
        """The Deployment whose container runs `python -m services.<service>`."""
        for obj in self.of_kind("Deployment"):
            if _service_of(_main_container(obj)) == service:
                return obj
        raise KeyError(f"no Deployment runs services.{service}")

    def migration_job(self) -> dict[str, Any]:
        """The Job that runs routing's migrations."""
        for obj in self.of_kind("Job"):
            command = _command(_main_container(obj))
            if command[-3:-1] == ["services.routing.api.migrations_cli", "upgrade"] or (
                "services.routing.api.migrations_cli" in command and "upgrade" in command
            ):
                return obj
        raise KeyError("no Job runs services.routing.api.migrations_cli upgrade")

    def container(self, workload: dict[str, Any], service: str) -> Container:
        """The main container of `workload`, with its environment resolved."""
        spec = _main_container(workload)
        found = Container(service=service, command=_command(spec))
        for source in spec.get("envFrom", []):
            if "configMapRef" in source:
                data = self.named("ConfigMap", source["configMapRef"]["name"]).get("data", {})
                found.plain_env.update({k: str(v) for k, v in data.items()})
            else:
                raise AssertionError(f"{service}: envFrom other than a ConfigMap: {source}")
        for entry in spec.get("env", []):
            name = entry["name"]
            if "value" in entry:
                found.plain_env[name] = str(entry["value"])
            elif "secretKeyRef" in entry.get("valueFrom", {}):
                ref = entry["valueFrom"]["secretKeyRef"]
                found.secret_env[name] = (ref["name"], ref["key"])
            elif "configMapKeyRef" in entry.get("valueFrom", {}):
                ref = entry["valueFrom"]["configMapKeyRef"]
                found.plain_env[name] = str(
                    self.named("ConfigMap", ref["name"])["data"][ref["key"]]
                )
            # fieldRef values (pod name, namespace) are Kubernetes' own; not settings.
        found.ports = {p["name"]: p["containerPort"] for p in spec.get("ports", [])}
        for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
            if kind in spec:
                found.probes.append(_probe(kind, spec[kind], found.ports))
        return found

    def service_for(self, deployment: dict[str, Any]) -> dict[str, Any]:
        """The Service whose selector picks `deployment`'s pods."""
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        for obj in self.of_kind("Service"):
            selector = obj["spec"].get("selector") or {}
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                return obj
        raise KeyError(f"no Service selects {deployment['metadata']['name']}")


@dataclass
class PortMap:
    """Declared container ports of each service → the local ports they run on here,
    and the Services' DNS names → the service they lead to."""

    local: dict[str, dict[int, int]] = field(default_factory=dict)  # service -> cport -> port
    services: dict[str, tuple[str, dict[int, int]]] = field(default_factory=dict)
    named_ports: dict[tuple[str, str], int] = field(default_factory=dict)
    # (public host, path prefix) -> (Service name, Service port), from Ingress rules
    routes: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)

    def add_ingress(self, ingress: dict[str, Any]) -> None:
        """Note an Ingress's rules: which Service a public host and path lead to."""
        for rule in ingress["spec"].get("rules", []):
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                port = (
                    backend["port"].get("number")
                    or self.named_ports[(backend["name"], backend["port"]["name"])]
                )
                self.routes[(rule["host"], path["path"])] = (backend["name"], port)

    def public(self, value: str, *, path: str, expect: str) -> str:
        """`value`, a public https URL whose `path` requests an Ingress rule sends to
        `expect`'s Service, as the URL of that service here; fails if it goes elsewhere."""
        match = re.fullmatch(r"https://(?P<host>[^:/]+)(?P<rest>/.*)?", value)
        assert match, f"{value!r} is neither a Service address nor a public https URL"
        full = (match["rest"] or "").rstrip("/") + path
        found = [
            (name, port)
            for (host, prefix), (name, port) in self.routes.items()
            if host == match["host"] and full.startswith(prefix)
        ]
        assert found, f"no Ingress rule sends {value}{path} anywhere"
        name, port = found[0]
        service, targets = self.services[name]
        assert service == expect, f"{value}{path} leads to {service}, not {expect}"
        return f"http://127.0.0.1:{self.local[service][targets[port]]}{match['rest'] or ''}"

    def allot(self, service: str, container: Container) -> None:
        self.local[service] = {port: free_port() for port in container.ports.values()}

    def add_service(self, service: str, k8s_service: dict[str, Any], container: Container) -> None:
        """Note the Service in front of `service`: its port → the targeted containerPort."""
        targets = {}
        for port in k8s_service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            if isinstance(target, str):
                target = container.ports[target]
            targets[port["port"]] = target
            if "name" in port:
                self.named_ports[(k8s_service["metadata"]["name"], port["name"])] = port["port"]
        name = k8s_service["metadata"]["name"]
        namespace = k8s_service["metadata"].get("namespace", "")
        for host in {
            name,
            f"{name}.{namespace}",
            f"{name}.{namespace}.svc",
            f"{name}.{namespace}.svc.cluster.local",
        }:
            self.services[host] = (service, targets)

    def address(self, value: str, *, expect: str) -> str:
        """`value` (host:port or http://host:port/…) with a Service's DNS name and port
        replaced by where `expect` listens here; fails if it leads anywhere else."""
        match = re.fullmatch(
            r"(?P<scheme>https?://)?(?P<host>[^:/]+):(?P<port>\d+)(?P<rest>/.*)?", value
        )
        assert match, f"{value!r} is not host:port or a URL with a port"
        host, port = match["host"], int(match["port"])
        assert host in self.services, f"{value!r} names no Service of the manifests"
        service, targets = self.services[host]
        assert service == expect, f"{value!r} leads to {service}, not {expect}"
        assert port in targets, f"{value!r}: the Service has no port {port}"
        local = self.local[service][targets[port]]
        return f"{match['scheme'] or ''}127.0.0.1:{local}{match['rest'] or ''}"


def local_environment(
    container: Container,
    ports: PortMap,
    *,
    secrets: Mapping[str, str],
    here: Mapping[str, str],
) -> dict[str, str]:
    """The container's environment for a process on this machine: ConfigMap values as
    they are (ports and other services' addresses mapped, after checking them), each
    Secret reference filled from `secrets` (by variable name; a reference the test has no
    value for fails), then `here`: the few values a cluster and this machine differ in
    (the Bot API's URL, the Cloud Tasks emulator)."""
    service = container.service
    env = dict(container.plain_env)
    for name, port_setting in PORT_SETTINGS.items():
        if name in container.ports:
            var = variable(service, port_setting)
            declared = container.ports[name]
            assert env.get(var) == str(declared), (
                f"{service}: {var}={env.get(var)!r} but the container declares {name} {declared}"
            )
            env[var] = str(ports.local[service][declared])
    for setting, (target, path) in ADDRESS_SETTINGS.items():
        var = variable(service, setting) if _has(service, setting) else None
        if var is None or var not in env:
            continue
        if env[var].startswith("https://"):
            env[var] = ports.public(env[var], path=path, expect=target)
        else:
            env[var] = ports.address(env[var], expect=target)
    for var, (secret, key) in container.secret_env.items():
        assert var in secrets, f"{service}: no test value for {var} (Secret {secret}, key {key})"
        env[var] = secrets[var]
    env.update(here)
    return env


def _has(service: str, setting: str) -> bool:
    try:
        variable(service, setting)
    except ValueError:
        return False
    return True


def _main_container(workload: dict[str, Any]) -> dict[str, Any]:
    pod = workload["spec"]["template"]["spec"]
    return pod["containers"][0]


def _command(spec: dict[str, Any]) -> list[str]:
    return [*spec.get("command", []), *spec.get("args", [])]


def _service_of(spec: dict[str, Any]) -> str | None:
    command = _command(spec)
    for service in SERVICES:
        if command[-2:] == ["-m", f"services.{service}"]:
            return service
    return None


def _probe(kind: str, spec: dict[str, Any], ports: dict[str, int]) -> Probe:
    short = kind.removesuffix("Probe")
    if "grpc" in spec:
        return Probe(short, spec["grpc"]["port"], grpc_service=spec["grpc"].get("service", ""))
    if "httpGet" in spec:
        port = spec["httpGet"]["port"]
        port = ports[port] if isinstance(port, str) else port
        return Probe(short, port, http_path=spec["httpGet"]["path"])
    raise AssertionError(f"{kind}: neither gRPC nor HTTP: {spec}")


def migration_command(job: dict[str, Any]) -> list[str]:
    """The Job's command, as it would run in the image."""
    return _command(_main_container(job))


def image_python(command: list[str], python: str) -> list[str]:
    """The container's command with the image's `python` replaced by this machine's."""
    assert command and Path(command[0]).name in ("python", "python3"), command
    return [python, *command[1:]]
