"""Alembic environment: always run from ``nova.db.migration``.

The caller hands over an open connection in
``config.attributes['connection']``; there is no alembic.ini.
"""

from alembic import context

from nova.db import models

config = context.config
connection = config.attributes['connection']
context.configure(connection=connection,
                  target_metadata=models.Base.metadata,
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
