"""Strategies: the contract every strategy keeps, the registry that finds them, the prompt pieces
they share, and the contract as checks a third-party strategy can run in its own tests."""
