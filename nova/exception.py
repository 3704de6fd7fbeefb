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
