"""Kenya social protection sector MEL service (Flask application package)."""

__version__ = "0.1.0"
