"""Email intake (issue 16): the mailbox units send their materials to, read, answered and recorded."""
