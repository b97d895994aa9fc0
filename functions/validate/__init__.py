"""Validation: reading what units typed and saying precisely what is wrong."""
