"""AWS from inside a Lambda function: clients, secrets, campaign files, logs, the queue, the bucket."""
