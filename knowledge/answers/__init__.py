"""Answers: evidence, support check, abstention, composer, citations, voice, generator and prompts."""
