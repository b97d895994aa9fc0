"""Contract tier: suites every implementation of a port must pass (store_contract.py, google_contract.py),
run by test_*_contract.py against each implementation."""
