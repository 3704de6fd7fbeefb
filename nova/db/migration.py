"""Schema migrations: ``nova-manage db sync`` and ``db version``."""

import os

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              'migrations')


def _config(connection):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', MIGRATIONS_DIR)
    cfg.attributes['connection'] = connection
    return cfg


def head_revision():
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', MIGRATIONS_DIR)
    return alembic_script.ScriptDirectory.from_config(cfg).get_current_head()


def db_sync(engine, revision='head'):
    """Create or upgrade the schema to ``revision`` (the latest by default)."""
    with engine.begin() as connection:
        alembic_command.upgrade(_config(connection), revision)


def db_version(engine):
    """The schema revision of the database, or None when it has none."""
    with engine.connect() as connection:
        return alembic_migration.MigrationContext.configure(
            connection).get_current_revision()
