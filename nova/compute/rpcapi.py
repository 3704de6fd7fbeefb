"""Client side of the compute RPC API (topic ``compute``, server = host).

Arguments are plain values (uuids, ids, host names): every service reads
the records from the shared database, so nothing stale crosses the wire.
Casts return at once; calls wait for the answer (``timeout`` seconds).

Both are bounded when the message bus is down (``retries``, from
``[DEFAULT] rpc_connection_retries``): a cast that cannot be delivered
raises MessagingUnavailable (503 at the REST API) instead of retrying
forever, and a call gives up after its timeout plus the retries' waits
(``nova.rpc.call_with_deadline``).
"""

import oslo_messaging as messaging

from nova.compute import states
from nova import rpc

RPC_API_VERSION = '1.0'


class ComputeAPI(object):

    def __init__(self, transport, timeout=60, retries=rpc.DEFAULT_RETRIES):
        self._timeout = timeout
        self._retries = retries
        target = messaging.Target(topic=states.COMPUTE_TOPIC,
                                  version=RPC_API_VERSION)
        self._client = rpc.get_client(transport, target)

    def _prepare(self, host, timeout=None):
        return rpc.BoundedClient(
            self._client.prepare(server=host,
                                 timeout=timeout or self._timeout,
                                 retry=self._retries),
            timeout or self._timeout, self._retries)

    # -- servers ------------------------------------------------------------

    def build_and_run_instance(self, ctxt, host, instance_uuid, image_id):
        self._prepare(host).cast(ctxt, 'build_and_run_instance',
                                 instance_uuid=instance_uuid,
                                 image_id=image_id)

    def terminate_instance(self, ctxt, host, instance_uuid):
        self._prepare(host).cast(ctxt, 'terminate_instance',
                                 instance_uuid=instance_uuid)

    def get_instance_power_state(self, ctxt, host, instance_uuid,
                                 timeout=None):
        """The power state of the guest on ``host`` (NOSTATE: not there)."""
        return self._prepare(host, timeout).call(
            ctxt, 'get_instance_power_state', instance_uuid=instance_uuid)

    # -- pause, unpause, suspend, resume --------------------------------------

    def pause_instance(self, ctxt, host, instance_uuid):
        self._prepare(host).cast(ctxt, 'pause_instance',
                                 instance_uuid=instance_uuid)

    def unpause_instance(self, ctxt, host, instance_uuid):
        self._prepare(host).cast(ctxt, 'unpause_instance',
                                 instance_uuid=instance_uuid)

    def suspend_instance(self, ctxt, host, instance_uuid):
        self._prepare(host).cast(ctxt, 'suspend_instance',
                                 instance_uuid=instance_uuid)

    def resume_instance(self, ctxt, host, instance_uuid):
        self._prepare(host).cast(ctxt, 'resume_instance',
                                 instance_uuid=instance_uuid)

    def get_host_uptime(self, ctxt, host, timeout=None):
        """The host's ``uptime`` line, as its driver reports it."""
        return self._prepare(host, timeout).call(ctxt, 'get_host_uptime')

    # -- live migration, source side ------------------------------------------

    def live_migration(self, ctxt, host, instance_uuid, migration_id, dest,
                       block_migration):
        self._prepare(host).cast(ctxt, 'live_migration',
                                 instance_uuid=instance_uuid,
                                 migration_id=migration_id, dest=dest,
                                 block_migration=block_migration)

    def live_migration_force_complete(self, ctxt, host, instance_uuid,
                                      migration_id):
        self._prepare(host).cast(ctxt, 'live_migration_force_complete',
                                 instance_uuid=instance_uuid,
                                 migration_id=migration_id)

    def live_migration_abort(self, ctxt, host, instance_uuid, migration_id):
        self._prepare(host).cast(ctxt, 'live_migration_abort',
                                 instance_uuid=instance_uuid,
                                 migration_id=migration_id)

    # -- live migration, destination side -------------------------------------

    def pre_live_migration(self, ctxt, host, instance_uuid, migration_id,
                           block_migration, timeout=None, disks=None):
        """Returns the destination's migrate data as a dict.

        ``block_migration`` True, False or 'auto'; ``disks``: the source's
        local disks (dicts) for the destination to re-create.
        """
        kwargs = {}
        if disks:
            kwargs['disks'] = disks
        return self._prepare(host, timeout).call(
            ctxt, 'pre_live_migration', instance_uuid=instance_uuid,
            migration_id=migration_id, block_migration=block_migration,
            **kwargs)

    def post_live_migration_at_destination(self, ctxt, host, instance_uuid,
                                           migration_id, migrate_data,
                                           timeout=None):
        return self._prepare(host, timeout).call(
            ctxt, 'post_live_migration_at_destination',
            instance_uuid=instance_uuid, migration_id=migration_id,
            migrate_data=migrate_data)

    def rollback_live_migration_at_destination(self, ctxt, host,
                                               instance_uuid, migration_id):
        self._prepare(host).cast(ctxt,
                                 'rollback_live_migration_at_destination',
                                 instance_uuid=instance_uuid,
                                 migration_id=migration_id)
