"""Understanding and deciding: intents, sentiment, dialogue policy, the customer chat channel."""
