"""Helpers the tests share: builders of campaigns, payloads, workbooks and store data; paths. No tests here.

Test modules import from tests/helpers and tests/fakes only, never from another test module
(tests/unit/test_test_layout.py checks it).
"""
