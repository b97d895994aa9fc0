"""Unit tier: pure tests with in-memory fakes; no servers, moto, subprocesses or LibreOffice. Under a minute."""
