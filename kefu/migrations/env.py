"""Alembic environment. The URL comes from the caller (``kefu db upgrade``), never a config file."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from core.db import make_engine
from kefu.models import import_all_models

import_all_models()
target_metadata = SQLModel.metadata
config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
