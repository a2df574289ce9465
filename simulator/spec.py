"""Bot API spec loading and request validation.

The simulator's promise is that a request it accepts would also be accepted by Telegram as far as its
*shape* goes: the method exists, every parameter is known, required ones are present, scalars have the right
type and JSON-serialised objects (``reply_markup``, ``entities``, ``media``, ``scope``…) match their type
description field by field. The rules come from ``bot_api.json`` (derived by :mod:`simulator.derive_spec`),
so they track the documented API rather than whatever the simulator happens to implement.

Validation also *decodes*: form values arrive as strings (PTB JSON-encodes nested values and stringifies
numbers), and the returned mapping holds native ints, bools, floats, lists and dicts that the method
implementations use.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("bot_api.json")

_SCALARS = {"Integer", "Float", "Boolean", "String", "True"}
_INT_RE = re.compile(r"^-?\d+$")


class SpecError(Exception):
    """A request does not match the documented Bot API; the message is the Telegram-style description."""


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part, as handed to method implementations."""

    name: str  # multipart field name
    filename: str
    content_type: str | None
    data: bytes


class BotApiSpec:
    """The compact Bot API spec with a validator for method calls."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.methods: dict[str, Any] = data["methods"]
        self.types: dict[str, Any] = data["types"]
        self.version: str = data.get("version", "")
        # Telegram matches method names case-insensitively (``sendmessage`` works), so keep a lookup.
        self._by_lower = {name.lower(): name for name in self.methods}

    def canonical_method(self, name: str) -> str | None:
        return self._by_lower.get(name.lower())

    def validate(self, method: str, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        """Check ``params`` (form strings or native JSON values) for ``method`` and return decoded values.

        Parameters whose value is an uploaded file (sent as a multipart part named like the parameter) are
        returned as :class:`UploadedFile`. Files referenced via ``attach://name`` inside JSON stay strings.
        """
        spec = self.methods[method]["params"]
        decoded: dict[str, Any] = {}
        for name in params:
            if name not in spec:
                raise SpecError(f"Bad Request: unknown parameter '{name}' for method {method}")
        for name, pspec in spec.items():
            if name in params:
                decoded[name] = self._coerce(params[name], pspec["types"], name, files, form=True)
            elif name in files and "InputFile" in pspec["types"]:
                decoded[name] = files[name]
            elif pspec["required"]:
                raise SpecError(f"Bad Request: parameter '{name}' is required")
        # A multipart part that is neither a declared InputFile parameter nor referenced via attach:// is a
        # mistake Telegram would silently ignore; the simulator flags it because it usually means a typo.
        referenced = _attach_names(decoded)
        for part in files:
            if part not in decoded and part not in referenced:
                raise SpecError(f"Bad Request: unknown parameter '{part}' for method {method}")
        return decoded

    # -- value coercion ------------------------------------------------------------------------------------

    def _coerce(self, value: Any, types: list[str], path: str, files: dict[str, UploadedFile], form: bool) -> Any:
        """Decode ``value`` as one of ``types``; raise SpecError with the most relevant reason otherwise."""
        errors: list[tuple[int, str]] = []
        # Try scalars first so "123" for ["Integer", "String"] becomes an int, and "attach://x" or a
        # file_id for ["InputFile", "String"] stays a string.
        ordered = sorted(types, key=lambda t: (t not in _SCALARS, t == "String"))
        for typ in ordered:
            try:
                return self._coerce_one(value, typ, path, files, form)
            except SpecError as exc:
                errors.append((self._relevance(value, typ, form), str(exc)))
        errors.sort(key=lambda e: -e[0])
        raise SpecError(errors[0][1])

    def _relevance(self, value: Any, typ: str, form: bool) -> int:
        """How likely the caller meant ``typ``: objects whose known fields overlap the value's keys win."""
        if form and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return 0
        if typ.startswith("Array of "):
            return 1 if isinstance(value, list) else 0
        if isinstance(value, dict) and typ in self.types:
            names = set(self._all_field_names(typ))
            return 2 + len(names & set(value))
        return 0

    def _all_field_names(self, typ: str) -> list[str]:
        t = self.types[typ]
        names = list(t["fields"])
        for sub in t.get("subtypes", []):
            names.extend(self._all_field_names(sub))
        return names

    def _coerce_one(self, value: Any, typ: str, path: str, files: dict[str, UploadedFile], form: bool) -> Any:
        if typ == "InputFile":
            if isinstance(value, UploadedFile):
                return value
            raise SpecError(f"Bad Request: parameter '{path}' must be a file upload")
        if typ in _SCALARS:
            return _coerce_scalar(value, typ, path, form)
        # Objects and arrays: a form value is a JSON string; inside JSON values are native.
        if form and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise SpecError(f"Bad Request: can't parse {path} JSON object") from exc
        if typ.startswith("Array of "):
            inner = typ.removeprefix("Array of ")
            if not isinstance(value, list):
                raise SpecError(f"Bad Request: field '{path}' must be an Array")
            return [self._coerce(v, [inner], f"{path}[{i}]", files, form=False) for i, v in enumerate(value)]
        if typ not in self.types:
            raise SpecError(f"Bad Request: unsupported type {typ} for '{path}'")
        if not isinstance(value, dict):
            raise SpecError(f"Bad Request: field '{path}' must be an object of type {typ}")
        return self._coerce_object(value, typ, path, files)

    def _coerce_object(
        self, value: dict[str, Any], typ: str, path: str, files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        tspec = self.types[typ]
        subtypes: list[str] = tspec.get("subtypes", [])
        if subtypes:
            # Prefer the member whose discriminator constant matches (InputMediaPhoto for type "photo"); the
            # upstream spec marks those with "const".
            for sub in subtypes:
                consts = {k: f["const"] for k, f in self.types[sub]["fields"].items() if "const" in f}
                if consts and all(value.get(k) == v for k, v in consts.items()):
                    return self._coerce_object(value, sub, path, files)
            return dict(self._coerce(value, subtypes, path, files, form=False))
        fields: dict[str, Any] = tspec["fields"]
        out: dict[str, Any] = {}
        for key in value:
            if key not in fields:
                raise SpecError(f"Bad Request: unknown field '{key}' in {path} ({typ})")
        for key, fspec in fields.items():
            if key in value:
                if "const" in fspec and value[key] != fspec["const"]:
                    raise SpecError(f"Bad Request: field '{path}.{key}' must be \"{fspec['const']}\"")
                out[key] = self._coerce(value[key], fspec["types"], f"{path}.{key}", files, form=False)
            elif fspec["required"]:
                raise SpecError(f"Bad Request: field '{key}' is required in {path} ({typ})")
        return out


def _coerce_scalar(value: Any, typ: str, path: str, form: bool) -> Any:
    bad = SpecError(f"Bad Request: parameter '{path}' must be of type {typ}")
    if isinstance(value, UploadedFile):
        raise bad
    if typ == "String":
        if isinstance(value, str):
            return value
        # Telegram converts JSON numbers where it expects a string (e.g. callback_data 1), not objects.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise bad
    if typ == "Integer":
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int):
            return value
        if isinstance(value, str) and form and _INT_RE.match(value.strip()):
            return int(value)
        raise bad
    if typ == "Float":
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str) and form:
            try:
                return float(value)
            except ValueError:
                raise bad from None
        raise bad
    # Boolean / True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and form and value.lower() in {"true", "false", "1", "0"}:
        return value.lower() in {"true", "1"}
    raise bad


def _attach_names(value: Any) -> set[str]:
    """All ``attach://name`` references anywhere in a decoded value."""
    found: set[str] = set()
    if isinstance(value, str) and value.startswith("attach://"):
        found.add(value.removeprefix("attach://"))
    elif isinstance(value, dict):
        for v in value.values():
            found |= _attach_names(v)
    elif isinstance(value, list):
        for v in value:
            found |= _attach_names(v)
    return found


@cache
def load_spec(path: Path = SPEC_PATH) -> BotApiSpec:
    """Load (once per path) the compact spec shipped with the simulator."""
    return BotApiSpec(json.loads(path.read_text(encoding="utf-8")))
