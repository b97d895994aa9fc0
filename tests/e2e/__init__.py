"""End-to-end tier: the CLI (CliRunner or a subprocess), the demo, `huizong serve`."""
