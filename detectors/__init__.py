"""Detection: rules and models over canonical audit events, producing findings.

This package imports neither faust, aiokafka, ``pipeline`` nor ``alerts``: its
input is an event, its output a finding, and it can be tested without Kafka.
"""
