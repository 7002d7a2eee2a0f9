"""`make check-deploy`: the image and the Kubernetes manifests, checked without a cluster
or a Docker engine. Every step prints its command; the first failure stops with exit 1.

    python -m deploy.check_deploy [--no-image]

1. hadolint and checkov on the Dockerfile.
2. Each overlay rendered with `kubectl kustomize`; the core resources validated with
   `kubernetes-validate --strict` for Kubernetes 1.32 (offline); GKE's and Prometheus'
   custom resources, which it has no schema for, are listed and kept out; checkov on
   the whole render (every skip is annotated on the resource, with its reason).
3. What no tool checks: every SWITCHBOARD_* variable a container gets is a setting of
   that service (no invented or misspelt names), every secret setting comes from a
   Secret reference, no Secret object is rendered, and every metric the alert rules and
   the dashboard use is documented in docs/metrics.md.
4. The Dockerfile's install steps in scratch virtualenvs: the lock installs with
   --require-hashes --no-deps --only-binary, the project's wheel goes in without deps,
   `pip check` finds every requirement met, and every module of the services imports.
   (The dependency venv is kept in var/deploy-check/ while the locks do not change.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml
from pydantic import SecretStr

from deploy.launcher import SETTINGS, variables

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
OUT = ROOT / "var" / "deploy-check"
OVERLAYS = ("local", "production")
KUBERNETES_VERSION = "1.32.0"
VENV_BIN = Path(sys.executable).parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
# API groups of custom resources the overlays and extras may use; kubernetes-validate
# knows only Kubernetes' own schemas. Anything else it does not know fails the check.
CUSTOM_GROUPS = (
    "networking.gke.io/",  # ManagedCertificate
    "cloud.google.com/",  # BackendConfig
    "monitoring.coreos.com/",  # PodMonitor (extras)
    "monitoring.googleapis.com/",  # PodMonitoring (extras)
)
# What the image copies (Dockerfile, .dockerignore).
IMAGE_SOURCES = ("pyproject.toml", "servicekit", "services", "switchboard")
SERVICE_PACKAGES = ("servicekit", "services")


class Failed(Exception):
    """A check failed; the message says which and why."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.check_deploy")
    parser.add_argument(
        "--no-image", action="store_true", help="skip installing the lock in a scratch venv"
    )
    args = parser.parse_args(argv)
    try:
        _require_tools()
        OUT.mkdir(parents=True, exist_ok=True)
        check_dockerfile()
        for overlay in OVERLAYS:
            check_overlay(overlay)
        check_monitoring_extras()
        check_metric_names()
        if not args.no_image:
            check_image_install()
    except Failed as failure:
        print(f"\ncheck-deploy FAILED: {failure}", file=sys.stderr)
        return 1
    print("\ncheck-deploy: all checks passed")
    return 0


def _require_tools() -> None:
    if shutil.which("kubectl") is None:
        raise Failed(
            "kubectl is not on PATH: it renders the kustomize overlays (kubectl kustomize). "
            "Install kubectl 1.32 (it bundles kustomize 5.5) and run again."
        )
    for tool in (VENV_BIN / "hadolint", VENV_BIN / "kubernetes-validate", CHECKOV):
        if not tool.exists():
            raise Failed(f"{tool} is missing: run `make check-deploy`, which installs it")


def run(cmd: Sequence[str | Path], *, what: str, capture: bool = False, **kwargs) -> str:
    """Run a command, echoed first; a non-zero exit is a failure of `what`. With
    `capture`, answer its standard output (standard error is shown as it comes)."""
    shown = " ".join(_shown(part) for part in cmd)
    print(f"$ {shown}", flush=True)
    done = subprocess.run(
        [str(part) for part in cmd],
        text=True,
        stdout=subprocess.PIPE if capture else None,
        check=False,
        **kwargs,
    )
    if done.returncode != 0:
        if capture:
            print(done.stdout, file=sys.stderr)
        raise Failed(f"{what} (exit {done.returncode})")
    return done.stdout if capture else ""


def _shown(part: str | Path) -> str:
    text = str(part)
    return os.path.relpath(text, ROOT) if text.startswith(str(ROOT)) else text


# --- The Dockerfile ---------------------------------------------------------------------


def check_dockerfile() -> None:
    print("\n== Dockerfile")
    run([VENV_BIN / "hadolint", ROOT / "Dockerfile"], what="hadolint on the Dockerfile")
    _checkov("dockerfile", ROOT / "Dockerfile")


def _checkov(framework: str, path: Path) -> None:
    # --skip-download: no network, no platform guidelines; skips come only from the
    # annotations and comments in the files themselves.
    run(
        [CHECKOV, "--skip-download", "--quiet", "--compact", "--framework", framework, "-f", path],
        what=f"checkov ({framework}) on {_shown(path)}",
    )


# --- The manifests ----------------------------------------------------------------------


def render(directory: Path) -> list[dict]:
    text = run(
        ["kubectl", "kustomize", directory],
        what=f"kubectl kustomize {_shown(directory)}",
        capture=True,
    )
    return [doc for doc in yaml.safe_load_all(text) if doc]


def check_overlay(overlay: str) -> None:
    print(f"\n== overlays/{overlay}")
    docs = render(K8S / "overlays" / overlay)
    core = [doc for doc in docs if not _is_custom(doc)]
    custom = [doc for doc in docs if _is_custom(doc)]
    rendered = OUT / f"{overlay}.yaml"
    core_file = OUT / f"{overlay}-core.yaml"
    rendered.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    core_file.write_text(yaml.safe_dump_all(core, sort_keys=False))
    if custom:
        names = ", ".join(f"{doc['kind']}/{doc['metadata']['name']}" for doc in custom)
        print(f"custom resources, kept out of the schema validation: {names}")
    said = run(
        [
            VENV_BIN / "kubernetes-validate",
            "--strict",
            "--quiet",
            "-k",
            KUBERNETES_VERSION,
            core_file,
        ],
        what=f"kubernetes-validate on overlays/{overlay}",
        capture=True,
        stderr=subprocess.STDOUT,
    )
    if said.strip():
        # It only warns, and exits 0, for a kind it has no schema for.
        print(said, file=sys.stderr)
        raise Failed(f"kubernetes-validate could not validate everything in overlays/{overlay}")
    _checkov("kubernetes", rendered)
    check_settings(overlay, docs)


def _is_custom(doc: dict) -> bool:
    return str(doc.get("apiVersion", "")).startswith(CUSTOM_GROUPS)


def check_monitoring_extras() -> None:
    print("\n== monitoring/extras (custom resources: rendered, kinds checked)")
    for doc in render(K8S / "monitoring" / "extras"):
        if not _is_custom(doc):
            raise Failed(f"monitoring/extras holds {doc.get('kind')}, not a known custom resource")


def check_settings(overlay: str, docs: list[dict]) -> None:
    """Each service container gets only its own settings, secrets only from Secrets."""
    config_maps = {
        doc["metadata"]["name"]: doc.get("data", {}) for doc in docs if doc["kind"] == "ConfigMap"
    }
    problems: list[str] = []
    if any(doc["kind"] == "Secret" for doc in docs):
        problems.append("a Secret object is rendered: secrets are created outside the repository")
    for doc in docs:
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            service = _service_of(container)
            if service is None:
                continue
            where = f"{overlay}: {doc['kind']}/{doc['metadata']['name']}"
            problems += _settings_problems(where, service, container, config_maps)
    if problems:
        raise Failed("settings in the manifests:\n  " + "\n  ".join(problems))
    print(f"settings: every SWITCHBOARD_* variable is a setting of its service ({overlay})")


def _service_of(container: dict) -> str | None:
    command = container.get("command", [])
    if command[:2] == ["python", "-m"] and len(command) > 2:
        parts = command[2].split(".")
        if parts[0] == "services" and len(parts) > 1 and parts[1] in SETTINGS:
            return parts[1]
    return None


def _settings_problems(
    where: str, service: str, container: dict, config_maps: dict[str, dict]
) -> list[str]:
    known = {name: field for field, name in variables(service).items()}
    secret_fields = {
        name
        for name, field in known.items()
        if _is_secret(SETTINGS[service].model_fields[field].annotation)
    }
    problems = []
    given: list[tuple[str, str]] = []  # (variable, where its value comes from)
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef", {}).get("name")
        if ref not in config_maps:
            problems.append(f"{where}: envFrom a ConfigMap that is not rendered: {ref}")
            continue
        given += [(name, f"ConfigMap {ref}") for name in config_maps[ref]]
    for env in container.get("env", []):
        value_from = env.get("valueFrom", {})
        origin = "Secret" if "secretKeyRef" in value_from else "plain value or ConfigMap"
        given.append((env["name"], origin))
    for name, origin in given:
        if not name.startswith("SWITCHBOARD_"):
            continue
        if name not in known:
            problems.append(f"{where}: {name} is not a setting of {service}")
        elif name in secret_fields and origin != "Secret":
            problems.append(f"{where}: {name} is a secret setting but comes from a {origin}")
    return problems


def _is_secret(annotation: object) -> bool:
    return "SecretStr" in repr(annotation) or annotation is SecretStr


def check_metric_names() -> None:
    """The alert rules and the dashboard use only documented metric names."""
    print("\n== monitoring: metric names against docs/metrics.md")
    metrics_doc = (ROOT / "docs" / "metrics.md").read_text()
    documented = set(re.findall(r"`(switchboard_[a-z0-9_]+)`", metrics_doc))
    if not documented:
        raise Failed("docs/metrics.md documents no switchboard_ metric")
    used = _metric_names(
        (K8S / "monitoring" / "alerts.yaml").read_text(),
        (K8S / "monitoring" / "dashboard.json").read_text(),
    )
    json.loads((K8S / "monitoring" / "dashboard.json").read_text())  # valid JSON
    yaml.safe_load((K8S / "monitoring" / "alerts.yaml").read_text())  # valid YAML
    unknown = sorted(name for name in used if _base_name(name) not in documented)
    if unknown:
        raise Failed(f"monitoring uses metrics docs/metrics.md does not document: {unknown}")
    print(f"{len(used)} metric names used, all documented")


def _metric_names(*texts: str) -> set[str]:
    return {name for text in texts for name in re.findall(r"\bswitchboard_[a-z0-9_]+", text)}


def _base_name(name: str) -> str:
    """A histogram's series name without its _bucket/_sum/_count suffix."""
    return re.sub(r"_(bucket|sum|count)$", "", name)


# --- The image's install steps ----------------------------------------------------------


def check_image_install() -> None:
    print("\n== the Dockerfile's install steps, in scratch virtualenvs")
    locks = [ROOT / "requirements.lock", ROOT / "requirements-build.lock"]
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in locks)).hexdigest()[:16]
    deps = OUT / "image" / digest
    env = _clean_pip_environment()
    python = Path(sys.executable)  # this venv's; a venv made with it uses the base Python
    if not (deps / "ok").exists():
        shutil.rmtree(OUT / "image", ignore_errors=True)
        build, venv = deps / "build", deps / "venv"
        strict = ["--require-hashes", "--no-deps", "--only-binary=:all:", "--quiet"]
        run([python, "-m", "venv", build], what="python -m venv (build)")
        run(
            [build / "bin/pip", "install", *strict, "-r", locks[1]],
            what="installing requirements-build.lock",
            env=env,
        )
        run([python, "-m", "venv", "--without-pip", venv], what="python -m venv (runtime)")
        run(
            [
                build / "bin/pip",
                "--python",
                venv / "bin/python",
                "install",
                *strict,
                "-r",
                locks[0],
            ],
            what="installing requirements.lock (is it up to date? `make lock`)",
            env=env,
        )
        (deps / "ok").touch()
    else:
        print(f"(dependencies: the venv for these locks is already in {_shown(deps)})")
    _install_project(deps, env)


def _install_project(deps: Path, env: dict[str, str]) -> None:
    build_pip = deps / "build" / "bin" / "pip"
    venv = deps / "venv"
    with tempfile.TemporaryDirectory(prefix="switchboard-image-") as scratch:
        tmp = Path(scratch)
        context = tmp / "src"
        context.mkdir()
        for name in IMAGE_SOURCES:
            source = ROOT / name
            if source.is_dir():
                ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
                shutil.copytree(source, context / name, ignore=ignore)
            else:
                shutil.copy2(source, context / name)
        wheels = tmp / "wheels"
        run(
            [
                build_pip,
                "wheel",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "--wheel-dir",
                wheels,
                context,
            ],
            what="building the project's wheel",
            env=env,
        )
        wheel = next(wheels.glob("switchboard-*.whl"))
        # --force-reinstall: the kept venv gets this tree's code, not last run's.
        run(
            [
                build_pip,
                "--python",
                venv / "bin/python",
                "install",
                "--quiet",
                "--no-deps",
                "--force-reinstall",
                wheel,
            ],
            what="installing the project's wheel",
            env=env,
        )
        run(
            [build_pip, "--python", venv / "bin/python", "check"],
            what="pip check: a requirement of pyproject.toml is missing from requirements.lock "
            "(run `make lock`)",
            env=env,
        )
        # From an empty directory, so nothing is imported from the work tree.
        modules = tmp / "modules.json"
        modules.write_text(json.dumps(_service_modules()))
        probe = tmp / "import_all.py"
        probe.write_text(
            "import importlib, json, sys\n"
            "names = json.load(open(sys.argv[1]))\n"
            "for name in names:\n"
            "    importlib.import_module(name)\n"
            "print(f'{len(names)} modules of servicekit and services imported')\n"
        )
        run(
            [venv / "bin/python", probe, modules],
            what="importing every module of the services from the image's venv",
            cwd=tmp,
            env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
        )


def _service_modules() -> list[str]:
    """Every module of the packages the services run on, but Alembic's migration
    scripts (they run only inside Alembic)."""
    found = []
    for package in SERVICE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            # A __main__ without the guard runs its command when imported.
            if parts[-1] == "__main__" and '__name__ == "__main__"' not in path.read_text():
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found.append(".".join(parts))
    return found


def _clean_pip_environment() -> dict[str, str]:
    """pip as it runs in the image: PyPI only, none of this machine's extra indexes,
    local wheel folders or constraints."""
    local = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONSTRAINT")
    env = {k: v for k, v in os.environ.items() if k not in local}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


if __name__ == "__main__":
    sys.exit(main())
