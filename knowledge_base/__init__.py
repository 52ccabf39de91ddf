"""FAQ entries and intents, their versioned edits, import and export, and hybrid retrieval."""
