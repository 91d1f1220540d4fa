"""Spec, problem model, seeded generation and the reference LSTM solver."""
