"""What ``nova-manage db sync`` puts in a new database."""

from nova.db import api as db_api

# (flavorid, name, memory_mb, vcpus): small guests for the two-host lab.
DEFAULT_FLAVORS = (
    ('1', 'lab.small', 256, 1),
    ('2', 'lab.medium', 512, 1),
    ('3', 'lab.large', 1024, 2),
)


def seed(db):
    """Create the default flavors that do not exist yet; returns the new
    ones' names.
    """
    created = []
    for flavorid, name, memory_mb, vcpus in DEFAULT_FLAVORS:
        if (db_api.flavor_get_by_flavorid(db, flavorid) is not None or
                db_api.flavor_get_by_name(db, name) is not None):
            continue
        db_api.flavor_create(db, {'flavorid': flavorid, 'name': name,
                                  'memory_mb': memory_mb, 'vcpus': vcpus,
                                  'root_gb': 0})
        created.append(name)
    return created
