"""Mail transports: outbox folder, SMTP, SES."""
