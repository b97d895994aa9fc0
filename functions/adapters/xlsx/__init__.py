"""Workbooks: the reader and the streaming writer."""
