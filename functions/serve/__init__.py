"""`huizong serve`: the one-machine server (webhook, scheduler) — an entry point."""
