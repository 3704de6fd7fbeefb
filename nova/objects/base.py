"""A record whose ``save()`` goes to whatever store the service injected."""


class Record(object):
    """Plain attributes plus an injectable ``save`` hook.

    The driver only sets attributes and calls ``save()``; the compute
    service decides where that goes (the database), tests pass a list.
    """

    FIELDS = ()

    def __init__(self, saver=None, **values):
        unknown = set(values) - set(self.FIELDS)
        if unknown:
            raise TypeError('%s has no field(s) %s' % (
                type(self).__name__, ', '.join(sorted(unknown))))
        for name in self.FIELDS:
            setattr(self, name, values.get(name, self.DEFAULTS.get(name)))
        self._saver = saver
        self.save_count = 0

    DEFAULTS = {}

    def as_dict(self):
        return {name: getattr(self, name) for name in self.FIELDS}

    def save(self):
        self.save_count += 1
        if self._saver is not None:
            self._saver(self)
