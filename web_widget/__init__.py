"""The embeddable customer web widget: static files served by the app, no build step."""
