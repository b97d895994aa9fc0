"""Setting a campaign up: examples, unit templates, the demo."""
