"""NLU: intents, entities, system entities, and their evaluation."""
