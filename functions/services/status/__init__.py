"""Where each unit stands, per deliverable."""
