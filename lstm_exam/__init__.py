"""lstm-exam: randomized LSTM hand-calculation worksheets, answer keys and grading."""

__version__ = "0.1.0"
