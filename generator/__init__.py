"""The worksheet pipeline, in layers: core, spec, variants, store (and runtime), then
the stages generate and render, and export and report (docs/architecture.md)."""
