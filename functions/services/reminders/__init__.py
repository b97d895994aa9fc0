"""Reminders and the organiser's digest: the plan, then claimed sends."""
