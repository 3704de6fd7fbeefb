"""A record whose ``save()`` goes to whatever store the service injected."""

import copy

_MISSING = object()


class Record(object):
    """Plain attributes plus an injectable ``save`` hook.

    The driver only sets attributes and calls ``save()``; the compute
    service decides where that goes (the database, see ``DBSaver``), tests
    pass a list. The record remembers its values as of the last load or
    save, so a saver writes only what changed (``obj_get_changes``): two
    services saving different fields of one row never undo each other.
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
        self.obj_reset_changes()

    DEFAULTS = {}

    def as_dict(self):
        return {name: getattr(self, name) for name in self.FIELDS}

    def obj_reset_changes(self):
        """Take the current values as the saved ones."""
        self._saved = copy.deepcopy(self.as_dict())

    def obj_get_changes(self):
        """{field: value} changed since the last load or save."""
        saved = getattr(self, '_saved', {})
        return {name: value for name, value in self.as_dict().items()
                if saved.get(name, _MISSING) != value}

    def save(self):
        self.save_count += 1
        if self._saver is not None:
            self._saver(self)

    @classmethod
    def from_values(cls, values, saver=None):
        """A record from a dict with possibly more keys than FIELDS."""
        return cls(saver=saver, **{name: values.get(name, cls.DEFAULTS.get(
            name)) for name in cls.FIELDS})

    def __getitem__(self, name):
        """Read a field as ``record['uuid']`` (Nova's dict compatibility):
        oslo.log formats ``LOG.info(..., instance=instance)`` this way.
        """
        if name not in self.FIELDS:
            raise KeyError(name)
        return getattr(self, name)

    def __repr__(self):
        key = getattr(self, 'uuid', None) or getattr(self, 'id', None)
        return '<%s %s>' % (type(self).__name__, key)


class DBSaver(object):
    """``save()`` writes the changed fields with ``update(key, changes)``.

    ``update`` is a ``nova.db.api`` function partially applied to the
    database, ``key_field`` the record's field that names its row.
    """

    def __init__(self, update, key_field):
        self._update = update
        self._key_field = key_field

    def __call__(self, record):
        changes = record.obj_get_changes()
        changes.pop(self._key_field, None)
        for stamp in ('created_at', 'updated_at'):
            changes.pop(stamp, None)
        if changes:
            self._update(getattr(record, self._key_field), changes)
        record.obj_reset_changes()
