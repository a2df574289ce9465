"""/export as a file: rows read from the database in chunks (wishes and tips keyset by (created_at, id), hours and
cases through a server-side cursor) and appended to a temporary CSV in a worker thread, so memory stays flat
however long the range and however many volunteers; zipped when large; refused before Telegram's
50 MB limit for bot uploads.

Effects: none in the database; a temporary directory the caller removes (`Export.cleanup`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from actions.env import Env
from rules.exports import append_csv, export_rows, stream_rows, zip_file

CHUNK_ROWS = 500  # rows read (and turned into dicts on the event loop) at a time: a few ms each
KEYSET_KINDS = frozenset({"wishes", "tips"})
# A CSV above this is sent zipped; a file (zipped or not) above LIMIT_BYTES is not sent at all.
ZIP_ABOVE_BYTES = 8 * 1024 * 1024
LIMIT_BYTES = 48 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Export:
    """The finished export: the file to send (`None` when it came out too large), its name and row count."""

    path: Path | None
    filename: str
    rows: int
    zipped: bool
    size: int
    directory: Path

    @property
    def too_large(self) -> bool:
        """Over what Telegram accepts from a bot, even zipped: the caller asks for a shorter range."""
        return self.path is None

    def cleanup(self) -> None:
        """Remove the temporary files."""
        shutil.rmtree(self.directory, ignore_errors=True)


async def _chunks(
    env: Env, kind: str, since: dt.datetime, until: dt.datetime, columns: tuple[str, ...]
) -> AsyncIterator[list[dict[str, object]]]:
    """The export's rows, `CHUNK_ROWS` at a time. Wishes and tips by keyset (created_at, id), each chunk in a
    read of its own; hours and cases, which have no such order, through one server-side cursor."""
    if kind not in KEYSET_KINDS:
        async with env.db.read() as conn:
            async for chunk in stream_rows(conn, kind, since, until, CHUNK_ROWS):
                yield chunk
        return
    after: tuple[dt.datetime, int] | None = None
    while True:
        async with env.db.read() as conn:
            chunk = await export_rows(conn, kind, since, until, after=after, limit=CHUNK_ROWS, columns=columns)
        yield chunk
        if len(chunk) < CHUNK_ROWS:
            return
        last = chunk[-1]
        assert isinstance(last["created_at"], dt.datetime)
        after = (last["created_at"], int(str(last["id"])))


async def export_file(
    env: Env,
    kind: str,
    since: dt.datetime,
    until: dt.datetime,
    columns: tuple[str, ...],
    filename: str,
    *,
    limit_bytes: int | None = None,
    zip_above_bytes: int | None = None,
) -> Export:
    """Write the export of `kind` for [since, until) with these columns to a temporary file (zipped above
    `zip_above_bytes`, refused above `limit_bytes`: the module's limits unless given)."""
    limit_bytes = LIMIT_BYTES if limit_bytes is None else limit_bytes
    zip_above_bytes = ZIP_ABOVE_BYTES if zip_above_bytes is None else zip_above_bytes
    directory = Path(tempfile.mkdtemp(prefix="tongxin-export-"))
    path = directory / filename
    tz = env.settings.tz
    rows, header = 0, True
    async for chunk in _chunks(env, kind, since, until, columns):
        if chunk or header:
            await asyncio.to_thread(append_csv, path, columns, chunk, tz, header=header)
        header = False
        rows += len(chunk)
    if header:  # nothing at all: the header alone
        await asyncio.to_thread(append_csv, path, columns, [], tz, header=True)
    size = path.stat().st_size
    zipped = size > zip_above_bytes
    if zipped:
        archive = directory / (filename.rsplit(".", 1)[0] + ".zip")
        await asyncio.to_thread(zip_file, path, archive, filename)
        path.unlink()
        path, filename, size = archive, archive.name, archive.stat().st_size
    return Export(path if size <= limit_bytes else None, filename, rows, zipped, size, directory)
