"""The webhook shared by the local server and the cloud function: signature and payload handling."""
