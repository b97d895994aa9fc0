"""Stores: SQLite, S3, in memory."""
