"""Small domain objects shared by the driver and the compute service."""
