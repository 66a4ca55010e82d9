"""The vocabulary every stage shares: the model (Event, Delivery, Effect, Verdict...), the Scenario
dataclasses, providers and their signatures, errors, paths into JSON, and small shared helpers."""
