"""Derive the compact ``bot_api.json`` the simulator validates requests against.

The full machine-readable Bot API description (PaulSonOfLars/telegram-bot-api-spec, MIT) carries prose for
every method and field, which the simulator does not need at run time. This script keeps only what
validation uses: parameter/field names, their type expressions, whether they are required, the subtype lists
of union types (``InputMedia``, ``BotCommandScope``…) and, for discriminator fields described as "must be
X", that constant so a union member can be picked by its ``type``. Run it whenever the upstream spec is
refreshed::

    python -m simulator.derive_spec /path/to/api.json

It writes ``simulator/bot_api.json`` next to this file (or the path given by ``--out``).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

SOURCE = "https://github.com/PaulSonOfLars/telegram-bot-api-spec"
LICENCE = "MIT (see simulator/BOT_API_LICENSE); derived from the Telegram Bot API documentation"

# "Type of the media, must be photo" → "photo"; only the trailing word counts, so prose like "must be
# one of ..." is not mistaken for a constant.
_CONST_RE = re.compile(r"must be ([a-z_]+)\.?$")


def _fields(raw: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for field in raw:
        entry: dict[str, Any] = {"types": list(field["types"]), "required": bool(field["required"])}
        match = _CONST_RE.search(str(field.get("description", "")).strip())
        if match and field["types"] == ["String"]:
            entry["const"] = match.group(1)
        out[field["name"]] = entry
    return out


def derive(full: dict[str, Any]) -> dict[str, Any]:
    """Return the compact spec for the parsed upstream ``api.json``."""
    methods = {
        name: {"params": _fields(method.get("fields", [])), "returns": list(method.get("returns", []))}
        for name, method in sorted(full["methods"].items())
    }
    types: dict[str, Any] = {}
    for name, typ in sorted(full["types"].items()):
        entry: dict[str, Any] = {"fields": _fields(typ.get("fields", []))}
        if typ.get("subtypes"):
            entry["subtypes"] = list(typ["subtypes"])
        types[name] = entry
    return {
        "source": SOURCE,
        "licence": LICENCE,
        "version": full.get("version", ""),
        "release_date": full.get("release_date", ""),
        "methods": methods,
        "types": types,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("api_json", type=Path, help="upstream api.json")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("bot_api.json"))
    args = parser.parse_args(argv)
    full = json.loads(args.api_json.read_text(encoding="utf-8"))
    compact = derive(full)
    args.out.write_text(json.dumps(compact, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(compact['methods'])} methods, {len(compact['types'])} types)")


if __name__ == "__main__":
    main()
