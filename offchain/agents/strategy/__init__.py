"""Decisions as pure functions of what the agent knows: no chain, no world, no clock of their own.

Each returns the decision with its reasons in plain sentences (they go to the transcript and to approvals).
"""
