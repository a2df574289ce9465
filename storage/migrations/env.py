"""Alembic environment: runs migrations on the connection `storage.migrate` hands over.

Each migration runs in its own transaction together with its version record, so a failing
migration leaves the database at the previous revision.
"""

from __future__ import annotations

from alembic import context

from storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI directly
    raise SystemExit("Apply migrations with `python -m bot migrate`; author them with `alembic revision`.")

context.configure(
    connection=connection,
    target_metadata=metadata,
    transaction_per_migration=True,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
