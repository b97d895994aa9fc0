"""Everything that runs: services (validate, consolidate, remind), adapters and entry points."""
