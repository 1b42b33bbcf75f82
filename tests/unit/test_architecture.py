"""The shape of the code: core never imports textual or podman; the wheel ships the styles."""

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_core_does_not_import_textual_or_podman():
    core = sorted(p.stem for p in (REPO / "symposium_tui" / "core").glob("*.py") if p.stem != "__init__")
    modules = _modules_after("import symposium_tui.core\n" +
                             "\n".join(f"import symposium_tui.core.{m}" for m in core))
    assert "symposium_tui.core.doctor" in modules  # the imports really ran
    assert "textual" not in modules
    assert "podman" not in modules


def test_package_and_cli_import_without_textual():
    modules = _modules_after("import symposium_tui, symposium_tui.cli; symposium_tui.cli.build_parser()")
    assert "symposium_tui.cli" in modules
    assert "textual" not in modules


def test_import_contracts_hold():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken" in result.stdout


def test_wheel_contains_styles_and_image_recipes(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(REPO)],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    wheel = next(tmp_path.glob("symposium_tui-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "symposium_tui/styles/app.tcss" in names
    assert "symposium_tui/styles/dialogs.tcss" in names
    for recipe in ("base", "layer"):
        assert f"symposium_tui/images/{recipe}/Containerfile" in names
    for script in ("layer/install.sh", "common/entrypoint.sh", "agent/supervise.sh"):
        assert f"symposium_tui/images/{script}" in names


def _import_graph() -> dict[str, set[str]]:
    """Every import between the package's modules, at the top or inside functions."""
    import ast

    root = Path(__file__).resolve().parents[2] / "symposium_tui"
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                targets = {a.name for a in node.names}
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def test_no_import_circles():
    """Not even through imports inside functions, which only hide a circle from Python."""
    graph = _import_graph()
    circles = []
    for start in graph:
        stack, seen = [(start, (start,))], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    circles.append(" -> ".join((*path, nxt)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, (*path, nxt)))
    assert not circles, circles[:5]
