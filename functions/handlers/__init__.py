"""AWS Lambda entry points: thin, event in → the same services the CLI uses → response out."""
