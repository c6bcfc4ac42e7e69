"""The architecture, checked: imports only point down the flow, modules stay small, the wheel ships the analyzer only.

Flow: bundle → inventory → parsers → frames → analyses → findings → report / export; the CLI sits on top.
An import that points the other way (a parser that diagnoses, an analysis that opens files or formats JSON, a
report that loads a bundle) fails here with the module and the line, so the layering holds in the code and not
only in the README.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "qslogs"

#: layer (first name below ``qslogs``) → the layers it must never import, and why.
FORBIDDEN: dict[str, dict[str, str]] = {
    "parsers": {
        "analyses": "parsers report facts; diagnosis belongs to the analyses",
        "error_classes": "classifying an error is diagnosis, done by the analyses",
        "report": "parsing knows nothing of presentation",
        "cli": "the CLI sits on top",
        "commands": "the CLI sits on top",
    },
    "analyses": {
        "export": "JSON and Parquet happen at the edge, from the analyses' results",
        "report": "analyses compute; the report presents",
        "bundle": "analyses never open, extract or write files",
        "loader": "analyses receive loaded data; the loader opens the files",
        "qvd_loader": "analyses receive loaded QVDs; the loader opens the files",
        "dumps": "analyses receive the dumps read (Frames.meta)",
        "outputs": "analyses never write files; the edge does",
        "pipeline": "the pipeline calls the analyses (and reads --qvd-map), not the other way",
        "workers": "analyses receive loaded data",
        "cli": "the CLI sits on top",
        "commands": "the CLI sits on top",
    },
    "report": {
        "parsers": "the report presents results; it never parses",
        "bundle": "the report never opens a bundle",
        "frames": "the report reads analysis results, not frames",
        "loader": "the report reads analysis results, not frames",
        "store": "the report reads analysis results, not frames",
        "workers": "the report reads analysis results, not frames",
        "cli": "the CLI sits on top",
        "commands": "the CLI sits on top",
    },
}


#: Single modules a layer must never import although it may import others of theirs (parsers' schemas, say).
FORBIDDEN_MODULES: dict[str, dict[str, str]] = {
    "analyses": {
        "qslogs.parsers.qvd": "reading a QVD opens a file: the loading layer (qvd_loader) reads QVDs into Frames",
        "qslogs.parsers.qvd_header": "reading a QVD header opens a file: the loading layer does it",
        "qslogs.parsers.qvd_projection": "a projected QVD read opens a file: the loading layer does it",
    },
}


#: Imports that still point the wrong way, each with what is left to do. The test fails on any other, and
#: also when one of these is fixed (so the entry is removed with the fix): a ratchet, not an allowance.
KNOWN: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    """One ``import`` of a qslogs (or generator) module, where it stands."""

    module: str
    target: str
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, module: str | None = None) -> list[Import]:
    """Every absolute import of ``qslogs…`` or ``qslogs_synth…`` in one source file (function-level ones too)."""
    module = module or module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found += [Import(module, n, node.lineno) for n in names if n.split(".")[0].startswith("qslogs")]
    return found


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


SOURCES = sorted(PACKAGE.rglob("*.py"))
ALL_IMPORTS = [imp for path in SOURCES for imp in imports(path)]


def test_the_scan_sees_the_package() -> None:
    """A guard for the guard: the scan finds the layers it checks (an empty scan would pass everything)."""
    layers = {layer(imp.module) for imp in ALL_IMPORTS}
    assert {"parsers", "analyses", "report", "cli", "commands"} <= layers
    assert len(SOURCES) > 40


@pytest.mark.parametrize("source", sorted(FORBIDDEN))
def test_imports_only_point_down(source: str) -> None:
    found = [
        imp for imp in ALL_IMPORTS
        if layer(imp.module) == source and imp.target.startswith("qslogs.") and layer(imp.target) in FORBIDDEN[source]
    ]
    wrong = [f"{imp.module}:{imp.line} imports {imp.target} ({FORBIDDEN[source][layer(imp.target)]})"
             for imp in found if (imp.module, imp.target) not in KNOWN]
    assert not wrong, "\n".join(wrong)
    known_here = {pair for pair in KNOWN if layer(pair[0]) == source}
    fixed = known_here - {(imp.module, imp.target) for imp in found}
    assert not fixed, f"fixed, so remove from KNOWN: {sorted(fixed)}"


@pytest.mark.parametrize("source", sorted(FORBIDDEN_MODULES))
def test_no_forbidden_module(source: str) -> None:
    rules = FORBIDDEN_MODULES[source]
    wrong = [f"{imp.module}:{imp.line} imports {imp.target} ({rules[imp.target]})"
             for imp in ALL_IMPORTS if layer(imp.module) == source and imp.target in rules]
    assert not wrong, "\n".join(wrong)


#: Calls that open, list, extract or write files: analyses receive loaded data and make none of them.
FILE_CALLS = frozenset({"open", "read_text", "read_bytes", "write_text", "write_bytes", "memfd_create", "mkstemp",
                        "TemporaryDirectory", "NamedTemporaryFile", "glob", "rglob", "iterdir", "unlink"})


def file_calls(text: str) -> list[tuple[int, str]]:
    """(line, name) of every call in ``text`` whose function or method name is in :data:`FILE_CALLS`."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in FILE_CALLS:
                found.append((node.lineno, name))
    return found


def test_analyses_open_no_file() -> None:
    """No analysis module opens, lists or writes a file itself (imports are checked above)."""
    found = [f"{module_name(path)}:{line} calls {name}"
             for path in sorted((PACKAGE / "analyses").rglob("*.py"))
             for line, name in file_calls(path.read_text(encoding="utf-8"))]
    assert not found, "\n".join(found)


def test_the_file_call_rule_catches_a_violation() -> None:
    """The rule applied to planted code: an analysis reading a QVD map itself is reported with its line."""
    planted = "from pathlib import Path\n\ndef load(p: Path) -> str:\n    return p.read_text()\n"
    assert file_calls(planted) == [(4, "read_text")]
    assert file_calls("with open('x.qvd', 'rb') as f:\n    pass\n") == [(1, "open")]


def test_nothing_shipped_imports_the_generator() -> None:
    wrong = [f"{imp.module}:{imp.line} imports {imp.target}" for imp in ALL_IMPORTS
             if imp.target.split(".")[0] == "qslogs_synth"]
    assert not wrong, "\n".join(wrong)


def test_the_layer_rules_catch_a_violation(tmp_path: Path) -> None:
    """The rule applied to a planted file: a parser importing an error class is reported with its line."""
    source = tmp_path / "planted.py"
    source.write_text("import polars\nfrom qslogs.error_classes import classify\n", encoding="utf-8")
    found = imports(source, "qslogs.parsers.planted")
    assert found == [Import("qslogs.parsers.planted", "qslogs.error_classes", 2)]
    assert layer(found[0].target) in FORBIDDEN[layer(found[0].module)]


def test_modules_and_functions_stay_small() -> None:
    """No shipped module over 400 lines and no function over 100: split by responsibility before that."""
    too_long: list[str] = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n") + 1
        if lines > 400:
            too_long.append(f"{module_name(path)}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 100:
                    too_long.append(f"{module_name(path)}.{node.name} (line {node.lineno}): {length} lines")
    assert not too_long, "\n".join(too_long)


@pytest.mark.slow
def test_the_wheel_ships_the_analyzer_only(tmp_path: Path) -> None:
    """The built wheel holds ``qslogs`` with its templates and assets, and no generator or test module."""
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), str(PACKAGE.parent)],
        capture_output=True, text=True, check=False,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("qslogs-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"qslogs"}, tops
    assert "qslogs/report/templates/report.html" in names
    assert "qslogs/report/assets/report.css" in names
    assert "qslogs/py.typed" in names
    assert not [n for n in names if "/tests/" in n or n.split("/")[-1].startswith("test_") or "synth" in n]
