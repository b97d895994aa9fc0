"""Text for people: mail composition and validation reports."""
