"""The registry of sources a city's entries cite (sources.yaml): title, issuer, date, url and
whether it is a primary source (the plan, the ordinance) or a secondary one (a web page, a
summary) whose figures the citizen should confirm with the centre."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

SOURCES_FILE = "sources.yaml"


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    issuer: str
    date: str
    url: str
    primary: bool


def yaml_syntax_problem(path: Path, error: yaml.YAMLError) -> tuple[str, str]:
    """(file:line, message) for a YAML syntax error; line 1 when the parser gives no position."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        return f"{path}:{error.problem_mark.line + 1}", f"YAML syntax: {error.problem or error}"
    return f"{path}:1", f"YAML syntax: {error}"


def load_sources(folder: Path) -> tuple[dict[str, Source], list[tuple[str, str]]]:
    """The folder's sources by id, and (file:line, message) for each malformed one.
    A folder without sources.yaml has no registry (an empty mapping)."""
    path = folder / SOURCES_FILE
    if not path.exists():
        return {}, []
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return {}, [yaml_syntax_problem(path, exc)]
    if not isinstance(root, yaml.SequenceNode):
        return {}, [(f"{path}:1", "expected a list of sources")]
    sources: dict[str, Source] = {}
    problems: list[tuple[str, str]] = []
    for node in root.value:
        where = f"{path}:{node.start_mark.line + 1}"
        raw = yaml.safe_load(yaml.serialize(node))
        source = _source(raw, where, problems)
        if source and source.id in sources:
            problems.append((where, f"duplicate source id {source.id}"))
        elif source:
            sources[source.id] = source
    return sources, problems


def _source(raw: object, where: str, problems: list[tuple[str, str]]) -> Source | None:
    if not isinstance(raw, dict):
        problems.append((where, "a source must be a mapping (id:, title:, issuer:, date:, primary:)"))
        return None
    missing = [key for key in ("id", "title", "issuer", "date") if not str(raw.get(key) or "").strip()]
    if missing or not isinstance(raw.get("primary"), bool):
        problems.append((where, f"source needs {', '.join(missing or ['primary: true|false'])}"))
        return None
    date = raw["date"].isoformat() if isinstance(raw["date"], dt.date) else str(raw["date"])
    return Source(str(raw["id"]), str(raw["title"]), str(raw["issuer"]), date, str(raw.get("url") or ""),
                  raw["primary"])
