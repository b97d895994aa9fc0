"""Test suites that every implementation of a port must pass (see store_contract.py)."""
