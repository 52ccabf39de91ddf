"""Channels: the ways customers reach the service beside the web widget (issue 16).

A conversation records its channel (``conversation.channel``: ``web``, ``api``, …, and for
every channel but the widget ``conversation.channel_id``, a row of ``channel``). Every
channel's messages take the widget's path: stored before acknowledged, the bot's turn, handoff,
agent replies; what a conversation's participants say goes back out through its channel.
"""
