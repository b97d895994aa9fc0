"""Stand-ins for what huizong talks to: Google (in memory), an SMTP server, the Lambda secrets extension,
S3 (moto, made linearizable). One of each, shared by every test tier and the benches. No tests here.
"""
