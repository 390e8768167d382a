"""Alerts: the alert model built from findings, and the sinks that deliver it.

This package never imports faust; of ``detectors`` it uses only the finding type.
"""
