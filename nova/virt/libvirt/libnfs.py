"""Removing an image from an NFS export without mounting it.

QEMU opens the root disks of ``[libvirt] images_nfs_share`` itself, through
libnfs (its ``block-nfs`` module), and ``qemu-img`` creates them the same
way; but ``qemu-img`` cannot delete a file, the host may have no NFS client
at all (the lab's kernel has none), and removing the file on the server's
disk behind the NFS server's back is not an option either (nfs-ganesha
keeps it in its cache). So the file is removed over the NFS protocol by the
library QEMU already uses: ``libnfs.so.13`` (Debian package ``libnfs13``,
which ``qemu-block-extra`` depends on), called through ctypes. Debian's
``libnfs-utils`` has no ``nfs-rm``, and there is no Python binding packaged.

Like QEMU, the image's directory is mounted (NFSv3, libnfs's default) and
the file is removed by its name in it.
"""

import ctypes
import errno
import posixpath

LIBRARY = 'libnfs.so.13'
# Each NFS call (mount, lookup, remove) gives up after this long, so an
# export that stopped answering cannot hang the instance's delete.
TIMEOUT_MS = 30000


class NfsError(Exception):
    """libnfs could not be loaded, or an NFS call failed."""


def _load(name=LIBRARY):
    """The libnfs library with the prototypes of the calls used here."""
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise NfsError('cannot load %s (Debian package libnfs13): %s'
                       % (name, exc))
    ctx = ctypes.c_void_p
    for func, restype, argtypes in (
            ('nfs_init_context', ctx, []),
            ('nfs_destroy_context', None, [ctx]),
            ('nfs_get_error', ctypes.c_char_p, [ctx]),
            ('nfs_set_timeout', None, [ctx, ctypes.c_int]),
            ('nfs_mount', ctypes.c_int, [ctx, ctypes.c_char_p,
                                         ctypes.c_char_p]),
            ('nfs_unlink', ctypes.c_int, [ctx, ctypes.c_char_p])):
        getattr(lib, func).restype = restype
        getattr(lib, func).argtypes = argtypes
    return lib


def split_image_path(path):
    """(directory to mount, file name) of an image path on the export."""
    directory, name = posixpath.split(path or '')
    if not path.startswith('/') or not name or name in ('.', '..'):
        raise ValueError('not an image path on an export: %r' % path)
    return directory or '/', name


def _error(lib, ctx, rc):
    message = lib.nfs_get_error(ctx)
    text = message.decode('utf-8', 'replace') if message else ''
    return text or errno.errorcode.get(-rc, str(rc))


def unlink(host, path, library=None, timeout_ms=TIMEOUT_MS):
    """Remove the file ``path`` from the NFS server ``host``.

    True when it was removed, False when there was no such file; raises
    NfsError when the export cannot be mounted, the file cannot be removed
    or libnfs cannot be loaded.
    """
    directory, name = split_image_path(path)
    lib = library if library is not None else _load()
    ctx = lib.nfs_init_context()
    if not ctx:
        raise NfsError('libnfs could not create a context')
    try:
        lib.nfs_set_timeout(ctx, int(timeout_ms))
        rc = lib.nfs_mount(ctx, host.encode(), directory.encode())
        if rc != 0:
            raise NfsError('cannot mount %s:%s: %s' % (
                host, directory, _error(lib, ctx, rc)))
        rc = lib.nfs_unlink(ctx, ('/' + name).encode())
        if rc == -errno.ENOENT:
            return False
        if rc != 0:
            raise NfsError('cannot remove %s from %s:%s: %s' % (
                name, host, directory, _error(lib, ctx, rc)))
        return True
    finally:
        lib.nfs_destroy_context(ctx)
