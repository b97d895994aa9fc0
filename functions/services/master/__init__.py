"""The master workbook: its sheet model, built from the store."""
