"""The domain rules: the case vocabulary, the reducers that fold operations into cases and
villages, and pure functions over the merged caseload (search, review, dashboard, forks).
No Textual, no I/O.
"""
