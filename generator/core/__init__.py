"""The lecture's maths: notation, the misconception registry, the chains and the one
evaluator, solutions, tolerance, number text, errors and defaults. No files, no processes."""
