"""The pipeline: ingest and normalisation, the Faust app, replay and the CLI.

This is the only package that imports faust and aiokafka; it wires
``detectors`` and ``alerts`` together.
"""
