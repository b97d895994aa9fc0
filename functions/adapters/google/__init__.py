"""Google Drive and Sheets over HTTP."""
