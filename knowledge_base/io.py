"""Import and export of FAQ entries and intents as CSV, JSON, YAML and Markdown with front matter.

Parsing validates the whole file before anything is written, and every error names its line,
so a bad file is rejected whole.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from core.errors import InvalidInputError

from .models import FaqEntry, Intent
from .schemas import FaqEntryCreate, IntentCreate, resolve_entry

__all__ = ["FileFormat", "ImportFileError", "ParsedFile", "dump", "format_for_path", "parse"]

_LIST_SEPARATOR = "|"
_EXPORT_FIELDS = (
    "id",
    "question",
    "alternatives",
    "answer",
    "category",
    "language",
    "tags",
    "status",
)
_INTENT_EXPORT_FIELDS = ("name", "description", "action", "responses", "examples")


class FileFormat(StrEnum):
    csv = "csv"
    json = "json"
    yaml = "yaml"
    md = "md"


class ImportFileError(InvalidInputError):
    code = "invalid_file"


@dataclass
class ParsedFile:
    faqs: list[FaqEntryCreate] = field(default_factory=list)
    intents: list[IntentCreate] = field(default_factory=list)


@dataclass
class _Record:
    line: int
    data: dict[str, Any]


def format_for_path(path: Path | str) -> FileFormat:
    suffix = Path(path).suffix.lower().lstrip(".")
    aliases = {"yml": "yaml", "markdown": "md"}
    try:
        return FileFormat(aliases.get(suffix, suffix))
    except ValueError:
        raise ImportFileError(
            f"cannot tell the format of {Path(path).name!r}; use .csv, .json, .yaml or .md"
        ) from None


def parse(text: str, fmt: FileFormat, *, default_status: str = "published") -> ParsedFile:
    errors: list[dict[str, object]] = []
    if fmt is FileFormat.csv:
        faq_records, intent_records = _csv_records(text, errors), list[_Record]()
    elif fmt is FileFormat.md:
        faq_records, intent_records = _markdown_records(text, errors), list[_Record]()
    else:
        faq_records, intent_records = _structured_records(text, fmt, errors)
    parsed = ParsedFile()
    seen: dict[str, int] = {}
    for record in faq_records:
        record.data.setdefault("status", default_status)
        entry = _validate(FaqEntryCreate, record, errors)
        if entry is None:
            continue
        # Entries without an id get one from their language and question, so two of them
        # asking the same question would be one entry twice: that is a duplicate too.
        entry = resolve_entry(entry)
        key = str(entry.id)
        if key in seen:
            what = f"id {key!r}" if "id" in record.data else "question"
            errors.append(
                _error(record.line, "id", f"duplicate {what} (first on line {seen[key]})")
            )
            continue
        seen[key] = record.line
        parsed.faqs.append(entry)
    names: dict[str, int] = {}
    for record in intent_records:
        intent = _validate(IntentCreate, record, errors)
        if intent is None:
            continue
        if intent.name in names:
            errors.append(
                _error(
                    record.line,
                    "name",
                    f"duplicate intent {intent.name!r} (first on line {names[intent.name]})",
                )
            )
            continue
        names[intent.name] = record.line
        parsed.intents.append(intent)
    if errors:
        errors.sort(key=lambda e: int(str(e["line"])))
        raise ImportFileError(
            f"the file has {len(errors)} error(s); nothing was imported", details=errors
        )
    if not parsed.faqs and not parsed.intents:
        raise ImportFileError("the file holds no FAQ entries or intents")
    return parsed


def _error(line: int, field_name: str, message: str) -> dict[str, object]:
    return {"line": line, "field": field_name, "message": message}


M = TypeVar("M", FaqEntryCreate, IntentCreate)


def _validate(model: type[M], record: _Record, errors: list[dict[str, object]]) -> M | None:
    try:
        return model.model_validate(record.data)
    except ValidationError as exc:
        for problem in exc.errors():
            location = ".".join(str(part) for part in problem["loc"]) or "entry"
            errors.append(_error(record.line, location, problem["msg"]))
        return None


# -- CSV ---------------------------------------------------------------------------------------


_UNESCAPED_SEPARATOR = re.compile(r"(?<!\\)\|")


def _split_list(value: str | None) -> list[str]:
    """Split on '|'; a phrasing that holds a '|' itself is written with it escaped as '\\|'."""
    if not value:
        return []
    items = (item.replace("\\|", "|").strip() for item in _UNESCAPED_SEPARATOR.split(value))
    return [item for item in items if item]


def _join_list(values: list[str]) -> str:
    return _LIST_SEPARATOR.join(value.replace("|", "\\|") for value in values)


def _csv_records(text: str, errors: list[dict[str, object]]) -> list[_Record]:
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or [])
    missing = {"question", "answer"} - columns
    if missing:
        errors.append(_error(1, "header", f"missing column(s): {', '.join(sorted(missing))}"))
        return []
    records: list[_Record] = []
    by_id: dict[str, _Record] = {}
    try:
        for row in reader:
            line = reader.line_num
            if None in row or any(value is None for value in row.values()):
                errors.append(
                    _error(line, "row", "the row has a different number of fields than the header")
                )
                continue
            data: dict[str, Any] = {k: v for k, v in row.items() if v != "" and k}
            for list_field in ("alternatives", "tags"):
                if list_field in data:
                    data[list_field] = _split_list(data[list_field])
            entry_id = data.get("id")
            if entry_id and entry_id in by_id:
                _merge_phrasing(by_id[entry_id], data, line, errors)
                continue
            record = _Record(line, data)
            records.append(record)
            if entry_id:
                by_id[entry_id] = record
    except csv.Error as exc:
        errors.append(_error(reader.line_num, "row", f"malformed CSV: {exc}"))
    return records


def _merge_phrasing(
    first: _Record, data: dict[str, Any], line: int, errors: list[dict[str, object]]
) -> None:
    """A repeated id adds its question (and alternatives) as phrasings of the first row's entry."""
    if "question" not in data:
        errors.append(
            _error(
                line,
                "question",
                f"id {data['id']!r} repeats line {first.line} "
                "without a question to add as a phrasing",
            )
        )
        return
    for name in ("answer", "category", "language", "status", "tags"):
        if name in data and data[name] != first.data.get(name):
            errors.append(
                _error(
                    line,
                    name,
                    f"id {data['id']!r} repeats line {first.line} with a different {name}",
                )
            )
            return
    alternatives = first.data.setdefault("alternatives", [])
    alternatives.extend([data["question"], *data.get("alternatives", [])])


# -- JSON and YAML -----------------------------------------------------------------------------


def _structured_records(
    text: str, fmt: FileFormat, errors: list[dict[str, object]]
) -> tuple[list[_Record], list[_Record]]:
    try:
        document = json.loads(text) if fmt is FileFormat.json else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        errors.append(_error(exc.lineno, "file", f"invalid JSON: {exc.msg}"))
        return [], []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        errors.append(_error(mark.line + 1 if mark else 1, "file", f"invalid YAML: {exc}"))
        return [], []
    if isinstance(document, list):
        document = {"faqs": document}
    if not isinstance(document, dict) or not {"faqs", "intents"} & document.keys():
        errors.append(
            _error(
                1, "file", "expected a list of entries or a mapping with 'faqs' and/or 'intents'"
            )
        )
        return [], []
    # Outside strings JSON allows tabs as whitespace, which YAML does not; inside strings a tab
    # must be escaped, so replacing raw tabs keeps every line and position.
    lines = _item_lines(text.replace("\t", " ") if fmt is FileFormat.json else text)
    result: list[list[_Record]] = []
    for key in ("faqs", "intents"):
        items = document.get(key) or []
        records: list[_Record] = []
        if not isinstance(items, list):
            errors.append(_error(1, key, f"'{key}' must be a list"))
            items = []
        for position, item in enumerate(items):
            line = lines.get(key, [])[position] if position < len(lines.get(key, [])) else 1
            if not isinstance(item, dict):
                errors.append(_error(line, key, "each item must be a mapping of fields"))
                continue
            records.append(_Record(line, item))
        result.append(records)
    return result[0], result[1]


def _item_lines(text: str) -> dict[str, list[int]]:
    """Line numbers of each list item, from the YAML node tree (JSON is YAML here)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    if isinstance(root, yaml.SequenceNode):
        return {"faqs": [node.start_mark.line + 1 for node in root.value]}
    lines: dict[str, list[int]] = {}
    if isinstance(root, yaml.MappingNode):
        for key_node, value_node in root.value:
            if isinstance(value_node, yaml.SequenceNode):
                lines[str(key_node.value)] = [n.start_mark.line + 1 for n in value_node.value]
    return lines


# -- Markdown with front matter ---------------------------------------------------------------


# A '---' line opens front matter only when an entry field follows it, so an answer may hold a
# Markdown horizontal rule.
_FRONT_MATTER_KEY = re.compile(r"^(id|question|alternatives|category|language|tags|status)\s*:")


def _opens_front_matter(lines: list[str], number: int) -> bool:
    following = next((line for line in lines[number + 1 :] if line.strip()), "")
    return lines[number].strip() == "---" and bool(_FRONT_MATTER_KEY.match(following))


def _markdown_records(text: str, errors: list[dict[str, object]]) -> list[_Record]:
    """Entries as ``---`` front matter ``---`` followed by the answer, one after another."""
    lines = text.splitlines()
    start = next((n for n, line in enumerate(lines) if line.strip()), None)
    if start is None or lines[start].strip() != "---":
        errors.append(_error(1, "file", "a Markdown file must start with '---' front matter"))
        return []
    records: list[_Record] = []
    while start < len(lines):
        end = next((n for n in range(start + 1, len(lines)) if lines[n].strip() == "---"), None)
        if end is None:
            errors.append(_error(start + 1, "file", "front matter is not closed with '---'"))
            return records
        body_end = next(
            (n for n in range(end + 1, len(lines)) if _opens_front_matter(lines, n)), len(lines)
        )
        try:
            meta = yaml.safe_load("\n".join(lines[start + 1 : end])) or {}
        except yaml.YAMLError as exc:
            errors.append(_error(start + 1, "front matter", f"invalid YAML: {exc}"))
            meta = None
        if meta is not None and not isinstance(meta, dict):
            errors.append(_error(start + 1, "front matter", "front matter must be a mapping"))
        elif meta is not None:
            meta["answer"] = "\n".join(lines[end + 1 : body_end]).strip()
            records.append(_Record(start + 1, meta))
        start = body_end
    return records


# -- export ------------------------------------------------------------------------------------


def _entry_dict(entry: FaqEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in _EXPORT_FIELDS}


def dump(entries: Sequence[FaqEntry], intents: Sequence[Intent], fmt: FileFormat) -> str:
    faqs = [_entry_dict(e) for e in entries]
    if fmt is FileFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=_EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in faqs:
            writer.writerow(row | {k: _join_list(row[k]) for k in ("alternatives", "tags")})
        return buffer.getvalue()
    if fmt is FileFormat.md:
        blocks = []
        for row in faqs:
            meta = {k: v for k, v in row.items() if k != "answer"}
            front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).strip()
            blocks.append(f"---\n{front}\n---\n{row['answer']}\n")
        return "\n".join(blocks)
    document = {
        "faqs": faqs,
        "intents": [{n: getattr(i, n) for n in _INTENT_EXPORT_FIELDS} for i in intents],
    }
    if fmt is FileFormat.json:
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
