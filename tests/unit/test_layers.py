"""The layers import only downward: app → handlers | scheduler → bot → store → knowledge."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BELOW = {
    "app": {"handlers", "scheduler", "bot", "store", "knowledge"},
    "handlers": {"bot", "store", "knowledge"},
    "scheduler": {"bot", "store", "knowledge"},
    "bot": {"store", "knowledge"},
    "store": {"knowledge"},
    "knowledge": set(),
}


def imported_modules(tree: ast.AST):
    for node in ast.walk(tree):  # every import, at module level or inside a function
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def upward_imports(root: Path) -> list[str]:
    found = []
    for layer, allowed in BELOW.items():
        for path in sorted((root / layer).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for line, module in imported_modules(tree):
                top = module.split(".")[0]
                if top in BELOW and top != layer and top not in allowed:
                    found.append(f"{path.relative_to(root)}:{line}: {layer} imports {module}")
    return found


def test_every_import_goes_down_the_layers():
    problems = upward_imports(ROOT)
    assert not problems, "imports that run up the layers:\n" + "\n".join(problems)


def test_the_check_names_the_offending_line(tmp_path):
    for layer in BELOW:
        (tmp_path / layer).mkdir()
    (tmp_path / "store" / "bad.py").write_text("import os\n\ndef f():\n    from bot.engine import handle\n")
    assert upward_imports(tmp_path) == ["store/bad.py:4: store imports bot.engine"]
