"""The design holds: one registry of targets, imports as docs/architecture.md allows, no cycles."""

from __future__ import annotations

import ast
import graphlib
import re
from pathlib import Path

import yaml

from yoloshrink import targets

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "yoloshrink"


def module_name(path: Path) -> str:
    """Dotted name below ``yoloshrink``; the synthetic subpackage counts as one module."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    parts = parts[:-1] if parts[-1] == "__init__" else parts
    name = ".".join(parts)
    return "datasets.synthetic" if name.startswith("datasets.synthetic") else name


def package_imports() -> dict[str, set[str]]:
    """Module -> the package modules it imports (function-level imports included)."""
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        for node in ast.walk(ast.parse(path.read_text())):
            found = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("yoloshrink"):
                base = node.module.removeprefix("yoloshrink").lstrip(".")
                found = [f"{base}.{a.name}".lstrip(".") for a in node.names]
                found = [f if module_name(PACKAGE / (f.replace(".", "/") + ".py")) in modules else base for f in found]
            elif isinstance(node, ast.Import):
                found = [a.name.removeprefix("yoloshrink.") for a in node.names if a.name.startswith("yoloshrink.")]
            for f in found:
                target = "datasets.synthetic" if f.startswith("datasets.synthetic") else f
                if target and target != name and target in modules:
                    graph[name].add(target)
    return graph


def allowed_imports() -> dict[str, set[str]]:
    """The table of docs/architecture.md's "Modules" section: module -> the modules it may import."""
    section = (REPO / "docs/architecture.md").read_text().split("\n## Modules\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w.]+)` \| [^|]+ \| ([^|]+) \|$", section, re.M)
    return {m: set(re.findall(r"`([\w.]+)`", deps)) for m, deps in rows}


def test_every_module_is_in_the_architecture_table_and_imports_only_what_it_may():
    graph, allowed = package_imports(), allowed_imports()
    real = {m for m in graph if m and m not in ("bench", "datasets", "report")}  # __init__ docstrings
    assert real == set(allowed), f"documented but absent: {set(allowed) - real}; undocumented: {real - set(allowed)}"
    for module in sorted(real):
        extra = graph[module] - allowed[module]
        assert not extra, f"yoloshrink.{module} imports {sorted(extra)}, which docs/architecture.md does not allow"
    for package in ("", "bench", "datasets", "report"):
        assert not graph[package], f"{package or 'yoloshrink'}/__init__.py should import nothing"


def test_no_import_cycle():
    graphlib.TopologicalSorter(package_imports()).prepare()  # raises CycleError on a cycle


def test_schema_formats_are_the_registry():
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    export = schema["properties"]["export"]["properties"]
    assert export["formats"]["items"]["enum"] == list(targets.EXPORTS)
    floats = [name for name, e in targets.EXPORTS.items() if not e.calibrated]
    assert export["args"]["propertyNames"]["enum"] == floats  # an INT8 format takes its float export's
    for name, e in targets.EXPORTS.items():  # each INT8 format quantizes a float export that exists
        assert not targets.EXPORTS[e.float_export].calibrated, name


def test_schema_families_are_the_registry():
    from yoloshrink import model

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    families = schema["properties"]["model"]["properties"]["families"]
    assert families["items"]["enum"] == list(model.FAMILIES)
    assert families["default"] == [model.DEFAULT_FAMILY]
    prefixes = [f.prefix for f in model.FAMILIES.values()]
    assert prefixes.count("") == 1 and model.FAMILIES[model.DEFAULT_FAMILY].prefix == ""  # old names stay


def test_every_target_reads_a_registered_export_and_has_a_runtime_loader():
    from yoloshrink.bench.runners import LOADERS

    for t in targets.TARGETS.values():
        assert t.export is None or t.export in targets.EXPORTS, t
        assert t.runtime in LOADERS, t
    assert all(any(t.export == e for t in targets.TARGETS.values()) for e in targets.EXPORTS)
    assert len(set(targets.markers().values())) == len(targets.TARGETS)  # one marker each


def test_no_module_is_much_over_400_lines():
    sizes = {p.relative_to(REPO).as_posix(): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert max(sizes.values()) <= 450, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]


def test_every_runtime_has_one_entry_a_loader_and_its_targets():
    from yoloshrink.bench.runners import LOADERS

    assert set(LOADERS) == set(targets.RUNTIMES)
    assert {t.runtime for t in targets.TARGETS.values()} == set(targets.RUNTIMES)  # none unused, none unknown


def test_schema_int8_enums_and_quantize_names_are_the_registry():
    from yoloshrink import quantize

    int8 = [name for name, e in targets.EXPORTS.items() if e.calibrated]
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    q = schema["properties"]["export"]["properties"]["quantize"]["properties"]
    assert q["choose"]["propertyNames"]["enum"] == int8
    assert q["candidates"]["propertyNames"]["enum"] == int8
    assert list(quantize.CANDIDATES) == int8 and set(quantize.FLOAT_TARGETS) == set(int8)
    assert set(quantize.SETTINGS) == {targets.EXPORTS[f].quantizer for f in int8} == set(quantize.QUANTIZERS)


def test_a_new_runtime_is_one_registry_entry_for_the_lists_that_derive_from_it(monkeypatch):
    """A throwaway runtime added to targets.RUNTIMES: the host benchmark checks its module, the
    environment record keeps its version, a host's line in the report names it."""
    import importlib

    from yoloshrink import environment, hostbench
    from yoloshrink.report import hosts

    extra = targets.Runtime("tinyrt", "tinyrt_module", "tinyrt-dist")
    monkeypatch.setitem(targets.RUNTIMES, "tinyrt", extra)
    try:
        for module in (environment, hostbench, hosts):
            importlib.reload(module)
        assert hostbench.RUNTIME_MODULES["tinyrt"] == "tinyrt_module"
        assert "tinyrt-dist" in environment.PACKAGES and environment.package_versions()["tinyrt-dist"] is None
        line = hosts.machine({"packages": {"tinyrt-dist": "1.2", "onnxruntime": "1.32.0"}})
        assert line["runtimes"] == ["onnxruntime 1.32.0", "tinyrt-dist 1.2"]
    finally:
        monkeypatch.undo()
        for module in (environment, hostbench, hosts):
            importlib.reload(module)
    assert "tinyrt" not in hostbench.RUNTIME_MODULES and "tinyrt-dist" not in environment.PACKAGES


def test_the_timing_keys_are_the_timing_plans_fields_everywhere():
    """benchmark's timing keys, export.quantize.timing's and "auto"'s defaults: TimingPlan's fields."""
    import dataclasses

    from yoloshrink import workflowcfg
    from yoloshrink.bench.timing import TimingPlan

    keys = {f.name for f in dataclasses.fields(TimingPlan)}
    assert set(workflowcfg.TIMING_KEYS) == keys and set(workflowcfg.QUANTIZE_TIMING) == keys
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    assert keys <= set(schema["properties"]["benchmark"]["properties"])
    quantize_timing = schema["properties"]["export"]["properties"]["quantize"]["properties"]["timing"]
    assert set(quantize_timing["properties"]) == keys
