"""Integration tier: huizong against real or faithful stand-ins: moto, loopback SMTP/HTTP servers, Google
at the HTTP level (responses), node, LibreOffice, other processes, large SQLite files."""
