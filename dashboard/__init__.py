"""The coordinators' web dashboard (FastAPI + Jinja2): see dashboard/app.py."""
