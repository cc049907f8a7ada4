"""The coordinators' web dashboard (FastAPI + Jinja2): app.py builds the application, deps.py
holds what its pages share, one module per area holds the pages."""
