"""Parse taxonomy files (Google text, CSV, JSON Lines) and validate them as one tree."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from kgrec.graph import limits
from kgrec.graph.errors import InputFileError, InvalidArgumentError
from kgrec.graph.file_reading import iter_csv_rows, iter_jsonl_rows, iter_text_lines
from kgrec.graph.records import CategoryRecord, category_id
from kgrec.graph.store import CategoryRef

FORMATS = ("google", "csv", "jsonl")
PATH_SEPARATOR = " > "
_GOOGLE_LINE = re.compile(r"^(\d+) - (\S.*)$")
_GOOGLE_FILE_LOCALE = re.compile(r"\.([a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)\.")
LOCALE_PATTERN = r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$"
_LOCALE = re.compile(LOCALE_PATTERN)


def normalise_locale(locale: str) -> str:
    if not _LOCALE.match(locale):
        raise InvalidArgumentError("locale", f"{locale!r} is not a locale code such as en-US")
    return locale.replace("_", "-")


@dataclass(slots=True)
class RawCategory:
    code: str
    name: str
    line: int
    parent_code: str | None = None
    parent_path: str | None = None
    names: dict[str, str] = field(default_factory=dict)


def _check_row(path: Path, row: RawCategory) -> RawCategory:
    """Ids and names the graph can store and index; the full path is checked in `build_tree`."""
    try:
        limits.text("id", row.code, indexed=True)
        limits.text("name", row.name, indexed=True)
        if row.parent_code is not None:
            limits.text("parent_id", row.parent_code, indexed=True)
        for locale, name in row.names.items():
            limits.text(f"name ({locale})", name)
    except ValueError as exc:
        raise InputFileError(path, row.line, str(exc)) from None
    return row


@dataclass(slots=True)
class ParsedTaxonomy:
    path: Path
    format: str
    locale: str
    rows: list[RawCategory]


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    for _, line in iter_text_lines(path):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _GOOGLE_LINE.match(stripped):
            return "google"
        break
    raise InvalidArgumentError(
        "format", f"cannot tell the format of {path}; pass --format ({', '.join(FORMATS)})"
    )


def locale_from_filename(path: Path) -> str | None:
    match = _GOOGLE_FILE_LOCALE.search(path.name)
    return normalise_locale(match.group(1)) if match else None


def _parse_google(path: Path) -> list[RawCategory]:
    rows: list[RawCategory] = []
    for number, line in iter_text_lines(path):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _GOOGLE_LINE.match(stripped)
        if not match:
            raise InputFileError(path, number, f"expected 'ID - Level1 > Level2', got {stripped[:80]!r}")
        segments = [s.strip() for s in match.group(2).split(PATH_SEPARATOR)]
        if any(not s for s in segments):
            raise InputFileError(path, number, "empty category name in path")
        rows.append(
            _check_row(
                path,
                RawCategory(
                    code=match.group(1),
                    name=segments[-1],
                    line=number,
                    parent_path=PATH_SEPARATOR.join(segments[:-1]) or None,
                ),
            )
        )
    return rows


def _locale_columns(columns: list[str]) -> dict[str, str]:
    return {c: normalise_locale(c[len("name_") :]) for c in columns if c.startswith("name_")}


def _parse_csv(path: Path) -> list[RawCategory]:
    rows: list[RawCategory] = []
    locale_cols: dict[str, str] | None = None
    for number, row in iter_csv_rows(path, required=("id", "parent_id", "name")):
        if locale_cols is None:
            locale_cols = _locale_columns(list(row))
        code, name = row["id"].strip(), row["name"].strip()
        if not code or not name:
            raise InputFileError(path, number, "id and name must not be empty")
        names = {loc: row[col].strip() for col, loc in locale_cols.items() if row[col].strip()}
        rows.append(
            _check_row(path, RawCategory(code, name, number, row["parent_id"].strip() or None, names=names))
        )
    return rows


def _parse_jsonl(path: Path) -> list[RawCategory]:
    rows: list[RawCategory] = []
    for number, obj in iter_jsonl_rows(path):
        code, name, parent = obj.get("id"), obj.get("name"), obj.get("parent_id")
        if code is None or isinstance(code, bool) or not str(code).strip():
            raise InputFileError(path, number, "missing required field 'id'")
        if not isinstance(name, str) or not name.strip():
            raise InputFileError(path, number, "missing required field 'name'")
        if parent is not None and (isinstance(parent, bool) or not isinstance(parent, (str, int))):
            raise InputFileError(path, number, "'parent_id' must be a string, a number or null")
        names_obj = obj.get("names") or {}
        if not isinstance(names_obj, dict) or not all(isinstance(v, str) for v in names_obj.values()):
            raise InputFileError(path, number, "'names' must map locales to strings")
        try:
            names = {normalise_locale(k): v.strip() for k, v in names_obj.items() if v.strip()}
        except InvalidArgumentError as exc:
            raise InputFileError(path, number, str(exc)) from exc
        parent_code = str(parent).strip() if parent is not None and str(parent).strip() else None
        rows.append(
            _check_row(path, RawCategory(str(code).strip(), name.strip(), number, parent_code, names=names))
        )
    return rows


def parse_taxonomy(path: Path, *, fmt: str | None = None, locale: str | None = None) -> ParsedTaxonomy:
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise InvalidArgumentError("format", f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    resolved_locale = normalise_locale(locale) if locale else None
    if fmt == "google":
        rows = _parse_google(path)
        resolved_locale = resolved_locale or locale_from_filename(path)
    elif fmt == "csv":
        rows = _parse_csv(path)
    else:
        rows = _parse_jsonl(path)
    if not rows:
        raise InputFileError(path, None, "no categories in file")
    return ParsedTaxonomy(path, fmt, resolved_locale or "en-US", rows)


def build_tree(
    parsed: ParsedTaxonomy, taxonomy: str, existing: dict[str, CategoryRef]
) -> list[CategoryRecord]:
    """Validates the whole file as a tree and returns records ordered parents-first."""
    path = parsed.path
    by_code: dict[str, RawCategory] = {}
    for row in parsed.rows:
        first = by_code.get(row.code)
        if first is None:
            by_code[row.code] = row
        elif (first.parent_code, first.parent_path) != (row.parent_code, row.parent_path):
            raise InputFileError(
                path,
                row.line,
                f"id {row.code!r} given again with a different parent (first on line {first.line})",
            )
    parents: dict[str, str | None] = {}
    if parsed.format == "google":
        code_by_path: dict[str, str] = {}
        for row in by_code.values():
            full = f"{row.parent_path}{PATH_SEPARATOR}{row.name}" if row.parent_path else row.name
            code_by_path.setdefault(full, row.code)
        existing_by_path = {ref.path: ref.id for ref in existing.values()}
        for row in by_code.values():
            if row.parent_path is None:
                parents[row.code] = None
            elif row.parent_path in code_by_path:
                parents[row.code] = category_id(taxonomy, code_by_path[row.parent_path])
            elif row.parent_path in existing_by_path:
                parents[row.code] = existing_by_path[row.parent_path]
            else:
                raise InputFileError(
                    path, row.line, f"parent category {row.parent_path!r} is not in the file or the graph"
                )
    else:
        for row in by_code.values():
            if row.parent_code is None:
                parents[row.code] = None
            elif row.parent_code in by_code or category_id(taxonomy, row.parent_code) in existing:
                parents[row.code] = category_id(taxonomy, row.parent_code)
            else:
                raise InputFileError(
                    path, row.line, f"parent_id {row.parent_code!r} is not in the file or the graph"
                )
    return _order_and_path(parsed, taxonomy, by_code, parents, existing)


def _order_and_path(
    parsed: ParsedTaxonomy,
    taxonomy: str,
    by_code: dict[str, RawCategory],
    parents: dict[str, str | None],
    existing: dict[str, CategoryRef],
) -> list[CategoryRecord]:
    prefix = f"{taxonomy}:"
    resolved: dict[str, tuple[str, int]] = {}
    records: list[CategoryRecord] = []
    for start in by_code:
        chain: list[str] = []
        on_chain: set[str] = set()
        code: str | None = start
        while code is not None and code in by_code and code not in resolved:
            if code in on_chain:
                cycle = " -> ".join([*chain[chain.index(code) :], code])
                raise InputFileError(parsed.path, by_code[code].line, f"cycle in taxonomy: {cycle}")
            chain.append(code)
            on_chain.add(code)
            parent_id = parents[code]
            code = parent_id[len(prefix) :] if parent_id is not None else None
        if code is not None and code in resolved:
            base_path, base_depth = resolved[code]
        elif code is not None:
            ref = existing[category_id(taxonomy, code)]
            base_path, base_depth = ref.path, ref.path.count(PATH_SEPARATOR) + 1
        else:
            base_path, base_depth = "", 0
        for link in reversed(chain):
            row = by_code[link]
            full = f"{base_path}{PATH_SEPARATOR}{row.name}" if base_path else row.name
            base_path, base_depth = full, base_depth + 1
            try:
                limits.depth(base_depth)
                limits.text("category path", full, indexed=True)
            except ValueError as exc:
                raise InputFileError(parsed.path, row.line, str(exc)) from None
            resolved[link] = (full, base_depth)
            records.append(
                CategoryRecord(
                    id=category_id(taxonomy, link),
                    taxonomy=taxonomy,
                    code=link,
                    name=row.name,
                    path=full,
                    depth=base_depth,
                    parent_id=parents[link],
                    names={parsed.locale: row.name, **row.names},
                )
            )
    records.sort(key=lambda r: r.depth)
    return records
