"""The Google channel: provisioning, the poll and write-back, the master sheet."""
