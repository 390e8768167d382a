"""The tamper-evident archive: an append-only Merkle log of events and alerts with signed checkpoints."""
