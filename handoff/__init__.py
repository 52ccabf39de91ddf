"""Escalation tickets, the agent queue and assignment, and the agent channel."""
