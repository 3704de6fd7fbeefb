"""Nova libvirt driver slice with automatic live-migration completion."""
