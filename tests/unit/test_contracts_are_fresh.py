"""The generated contracts in switchboard/ are exactly what protos/ produces today:
an edited .proto without `make proto` fails here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("proto_generate", REPO / "protos" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".py", ".pyi")
    }


def test_generated_code_matches_the_protos(tmp_path: Path) -> None:
    _generator().generate(tmp_path)
    fresh = _tree(tmp_path / "switchboard")
    committed = _tree(REPO / "switchboard")
    assert sorted(fresh) == sorted(committed), "files differ: run `make proto`"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert stale == [], f"stale generated code: {stale}; run `make proto`"


def test_every_proto_is_versioned() -> None:
    for proto in (REPO / "protos").rglob("*.proto"):
        parts = proto.relative_to(REPO / "protos").parts
        assert parts[0] == "switchboard" and parts[2] == "v1", proto
        package = f"package switchboard.{parts[1]}.v1;"
        assert package in proto.read_text(), f"{proto} must declare {package}"
