"""Exceptions the driver and the services raise, with operator messages."""


class NovaException(Exception):
    """Base exception; ``msg_fmt`` is filled from keyword arguments."""

    msg_fmt = 'An unknown exception occurred.'
    code = 500

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            message = self.msg_fmt % kwargs
        super(NovaException, self).__init__(message)
        self.message = message


class Invalid(NovaException):
    msg_fmt = 'Bad input: %(reason)s'
    code = 400


class NoActiveMigrationForInstance(NovaException):
    msg_fmt = 'Instance %(instance_id)s has no live migration in progress.'
    code = 409


class MigrationPreCheckError(NovaException):
    msg_fmt = 'Migration pre-check error: %(reason)s'
    code = 400


class LiveMigrationFailed(NovaException):
    msg_fmt = 'Live migration of instance %(instance_id)s failed: %(reason)s'


class InternalError(NovaException):
    msg_fmt = '%(err)s'


# -- REST API errors (nova/api) ---------------------------------------------

class InvalidAPIVersionString(Invalid):
    msg_fmt = ('API Version String %(version)s is of invalid format. Must '
               'be of format MajorNum.MinorNum.')


class InvalidGlobalAPIVersion(Invalid):
    msg_fmt = ('Version %(req_ver)s is not supported by the API. Minimum '
               'is %(min_ver)s and maximum is %(max_ver)s.')
    code = 406


class VersionNotFoundForAPIMethod(Invalid):
    msg_fmt = 'API version %(version)s is not supported on this method.'
    code = 404


class ValidationError(Invalid):
    msg_fmt = '%(detail)s'


class MalformedRequestBody(Invalid):
    msg_fmt = 'Malformed request body: %(reason)s'


class PolicyNotAuthorized(NovaException):
    msg_fmt = "Policy doesn't allow %(action)s to be performed."
    code = 403


class NotAuthenticated(NovaException):
    msg_fmt = 'Authentication required'
    code = 401


# -- compute service and database errors (nova/compute, nova/db) -------------
# ``code`` is the HTTP status the REST API answers with.

class NotFound(NovaException):
    msg_fmt = 'Resource could not be found.'
    code = 404


class Conflict(NovaException):
    msg_fmt = 'Conflict.'
    code = 409


class InstanceNotFound(NotFound):
    msg_fmt = 'Instance %(instance_id)s could not be found.'


class FlavorNotFound(Invalid):
    """Raised for a server create naming an unknown flavor (400)."""
    msg_fmt = 'Flavor %(flavor_id)s could not be found.'


class FlavorNotFoundByID(FlavorNotFound):
    """Raised by a flavor show of an unknown flavor (404)."""
    code = 404


class FlavorExists(Conflict):
    msg_fmt = 'Flavor with name %(name)s or ID %(flavor_id)s already exists.'


class ImageNotFound(Invalid):
    """Raised for a server create naming an unknown image (400)."""
    msg_fmt = 'Image %(image_id)s could not be found.'


class ImageNotFoundByID(ImageNotFound):
    """Raised by an image show of an unknown image (404)."""
    code = 404


class ImageNotActive(Invalid):
    msg_fmt = 'Image %(image_id)s is not active.'


class NoValidHost(Invalid):
    msg_fmt = 'No valid host was found. %(reason)s'


class ComputeHostNotFound(Invalid):
    """An unknown compute host named by a request.

    400, as Nova's os-migrateLive answers.
    """
    msg_fmt = 'Compute host %(host)s could not be found.'


class ServiceUnavailable(Conflict):
    msg_fmt = 'Compute service of %(host)s is unavailable at this time.'


class HypervisorNotFound(NotFound):
    msg_fmt = 'Hypervisor %(hypervisor_id)s could not be found.'


class ServiceNotFound(NotFound):
    msg_fmt = 'Service %(service_id)s could not be found.'


class MarkerNotFound(Invalid):
    msg_fmt = 'Marker %(marker)s could not be found.'


class InstanceInvalidState(Conflict):
    """The instance's vm_state or task_state forbids the action (409).

    The message is the one Nova's API gives for this conflict.
    """
    msg_fmt = ("Cannot '%(method)s' instance %(instance_uuid)s while it is "
               "in %(attr)s %(state)s")


class MigrationNotFound(NotFound):
    msg_fmt = 'Migration %(migration_id)s could not be found.'


class MigrationNotFoundForInstance(NotFound):
    msg_fmt = ('Migration %(migration_id)s not found for instance '
               '%(instance_id)s')


class InProgressMigrationNotFound(MigrationNotFoundForInstance):
    msg_fmt = ('In-progress live migration %(migration_id)s is not found for '
               'server %(instance_id)s.')


class InvalidMigrationState(Invalid):
    msg_fmt = ('Migration %(migration_id)s state of instance '
               '%(instance_uuid)s is %(state)s. Cannot %(method)s while the '
               'migration is in this state.')


class DatabaseNotSynced(NovaException):
    msg_fmt = ('The database at %(url)s has no schema (revision %(found)s, '
               'expected %(expected)s): run "nova-manage db sync".')


# -- start-up and dependency errors (nova/conf/validation, nova/db, nova/rpc) -

class InvalidConfiguration(NovaException):
    """Bad option values found at start; one line per problem."""
    msg_fmt = 'Invalid configuration: %(reason)s'


class DatabaseUnavailable(NovaException):
    msg_fmt = 'The database at %(url)s does not answer: %(reason)s'
    code = 503


class MessagingUnavailable(NovaException):
    msg_fmt = ('The message bus does not answer (%(reason)s): the compute '
               'service could not be reached. Try again later.')
    code = 503
