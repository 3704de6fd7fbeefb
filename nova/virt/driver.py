"""The interface the compute manager drives; one class per hypervisor."""

import abc


class ComputeDriver(object, metaclass=abc.ABCMeta):
    """Live-migration part of Nova's compute driver interface."""

    @abc.abstractmethod
    def init_host(self, host):
        """Prepare the driver for use on this compute host."""

    @abc.abstractmethod
    def live_migration(self, context, instance, dest, post_method,
                       recover_method, block_migration=False,
                       migrate_data=None):
        """Live-migrate ``instance`` to ``dest``; block until it ends.

        Calls ``post_method(context, instance, dest, block_migration,
        migrate_data)`` when the guest runs on ``dest``, otherwise
        ``recover_method(context, instance, dest, migrate_data,
        migration_status)``.
        """

    @abc.abstractmethod
    def live_migration_force_complete(self, instance):
        """Make the running live migration of ``instance`` finish now."""

    @abc.abstractmethod
    def live_migration_abort(self, instance):
        """Cancel the running live migration of ``instance``."""
