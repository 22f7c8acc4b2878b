"""Command-line interface: parse, call the pipeline, present. No science here."""
