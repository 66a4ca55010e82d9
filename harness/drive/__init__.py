"""The sending half: sources make events, perturbations plan deliveries, drift and tampering alter
them, the tracer marks them, and the Deliverer signs and sends them to the target."""
