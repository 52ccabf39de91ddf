"""The example deployment: nginx in front of several ``kefu serve`` processes (see README.md)."""
