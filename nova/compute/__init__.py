"""The compute service: API-side checks, RPC, the per-host manager."""
