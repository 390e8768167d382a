"""Faust agents: thin adapters from topics to the pipeline's stages."""
