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
