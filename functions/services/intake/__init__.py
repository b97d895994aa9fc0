"""Taking submissions in: files, form responses, the webhook; receipts."""
