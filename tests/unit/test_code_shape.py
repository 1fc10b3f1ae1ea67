"""The shape of the code: no function over 60 lines anywhere in the repository, and SQL only in
store/ (the layers above never import a statement builder from SQLModel or SQLAlchemy)."""
import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_FUNCTION_LINES = 60
NOT_OURS = {".venv", ".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".hypothesis"}
MIGRATIONS = Path("store", "migrations")
ABOVE_STORE = ("app", "handlers", "scheduler", "bot")
SQL_LIBRARIES = ("sqlmodel", "sqlalchemy")
SQL_BUILDERS = {"select", "update", "delete", "insert", "text", "func"}


def python_files(root: Path) -> Iterator[Path]:
    """Every .py file of the repository but the virtualenv, caches and the Alembic migrations."""
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if not NOT_OURS & set(relative.parts) and not relative.is_relative_to(MIGRATIONS):
            yield path


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int]]:
    """(name, length in lines from `def` to its last line) of each function or method longer than `limit`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > limit:
                found.append((node.name, length))
    return found


def sql_builders_imported(source: str) -> list[tuple[int, str]]:
    """(line, what) for each statement builder taken from SQLModel or SQLAlchemy: imported by name
    (`from sqlalchemy import select`) or reached through the module (`sqlalchemy.select`, `sa.func`)."""
    tree = ast.parse(source)
    found, module_names = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in SQL_LIBRARIES:
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names if a.name in SQL_BUILDERS]
        elif isinstance(node, ast.Import):
            module_names |= {(a.asname or a.name) for a in node.names if a.name.split(".")[0] in SQL_LIBRARIES}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr in SQL_BUILDERS
                and ast.unparse(node.value) in module_names):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_no_function_in_the_repository_is_longer_than_60_lines():
    problems = [f"{path.relative_to(ROOT)}:{name}:{length}"
                for path in python_files(ROOT)
                for name, length in long_functions(path.read_text(encoding="utf-8"))]
    assert not problems, f"functions over {MAX_FUNCTION_LINES} lines (file:function:length):\n" + "\n".join(problems)


def test_the_length_check_finds_a_long_method_and_passes_a_function_at_the_limit():
    at_limit = "def fits():\n" + "    x = 1\n" * (MAX_FUNCTION_LINES - 1)
    too_long = "class Desk:\n    async def grows(self):\n" + "        x = 1\n" * MAX_FUNCTION_LINES
    assert long_functions(at_limit) == []
    assert long_functions(at_limit + too_long) == [("grows", MAX_FUNCTION_LINES + 1)]


def test_the_walk_skips_the_virtualenv_and_the_migrations_only(tmp_path):
    for relative in (".venv/lib/site.py", "store/migrations/versions/0001_x.py", "store/models.py", "bench/b.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    assert [p.relative_to(tmp_path).as_posix() for p in python_files(tmp_path)] == ["bench/b.py", "store/models.py"]


def test_only_store_writes_sql():
    problems = [f"{path.relative_to(ROOT)}:{line}: {what}"
                for layer in ABOVE_STORE
                for path in python_files(ROOT / layer)
                for line, what in sql_builders_imported(path.read_text(encoding="utf-8"))]
    assert not problems, "SQL built outside store/ (move the query into a store/ function):\n" + "\n".join(problems)


def test_the_sql_check_names_builders_by_import_and_through_the_module_but_not_types():
    source = ("from sqlmodel import Session, select\n"
              "from sqlalchemy.engine import Engine\n"
              "import sqlalchemy as sa\n"
              "def count(session: Session, engine: Engine):\n"
              "    return session.exec(sa.func.count())\n")
    assert sql_builders_imported(source) == [(1, "sqlmodel.select"), (5, "sa.func")]
