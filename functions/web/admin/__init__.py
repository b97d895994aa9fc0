"""The organiser's console under /admin (issue 15): its own Starlette router, mounted by functions/web/app.py."""
