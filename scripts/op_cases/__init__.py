"""Operator case files for scripts/op_models.py: one per operator family."""
