"""The web form: one ASGI app (Starlette) serving units' personal links and their forms (functions/web/app.py)."""
