"""cohortbot engine: platform-neutral core that adapters feed and read from."""
