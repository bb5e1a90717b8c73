"""Offline evaluation: metrics, splits, the harness, reports and dataset presets.

Beside `recommender/`: it imports the recommender and is never imported by it.
"""
