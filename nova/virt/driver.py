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
    def live_migration_abort(self, instance, for_delete=False):
        """Cancel the running live migration of ``instance``.

        ``for_delete``: the server is being deleted (the abort's rank; the
        driver refuses it only in post-copy, where the guest must finish).
        """

    @abc.abstractmethod
    def cancel_unmonitored_migration(self, instance):
        """Cancel a migration job of ``instance`` nobody watches any more
        (left by a previous run of the service); True while one runs.
        """

    @abc.abstractmethod
    def pre_live_migration(self, context, instance, migrate_data=None):
        """On the destination: prepare; return the completed migrate data.

        ``migrate_data.block_migration`` may be ``'auto'``: the destination
        decides (copy the source's ``migrate_data.disks`` unless it shares
        their storage) and sets it to True or False.
        """

    def get_instance_disk_info(self, instance):
        """On the source: the guest's local disks a block migration copies
        (dicts-able records with device, path, virtual size, backing file);
        none by default.
        """
        return []

    @abc.abstractmethod
    def post_live_migration_at_destination(self, context, instance,
                                           migrate_data=None):
        """On the destination once the guest arrived; its power state."""

    @abc.abstractmethod
    def rollback_live_migration_at_destination(self, context, instance):
        """On the destination after a failure: drop a stopped leftover."""

    @abc.abstractmethod
    def spawn(self, context, instance, image):
        """Create and start the guest of ``instance`` from a BootImage."""

    @abc.abstractmethod
    def destroy(self, context, instance):
        """Stop and remove the guest here; False when there was none."""

    @abc.abstractmethod
    def get_power_state(self, instance):
        """``nova.compute.power_state`` of the guest (NOSTATE: not here)."""

    @abc.abstractmethod
    def list_instance_uuids(self):
        """UUIDs of the guests this hypervisor has."""

    @abc.abstractmethod
    def get_available_resource(self):
        """Host facts for the compute node record (os-hypervisors)."""

    @abc.abstractmethod
    def pause(self, context, instance):
        """Pause the guest of ``instance`` (it keeps its memory)."""

    @abc.abstractmethod
    def unpause(self, context, instance):
        """Let a paused guest run again."""

    @abc.abstractmethod
    def suspend(self, context, instance):
        """Suspend the guest: save its state (to disk) and stop it."""

    @abc.abstractmethod
    def resume(self, context, instance):
        """Run a suspended guest again from its saved state."""

    @abc.abstractmethod
    def get_host_uptime(self):
        """The host's uptime as ``uptime(1)`` prints it."""
