"""What a supervisor hands on: exports (CSV, XLSX, JSON), period reports and the printable
mediation agreement. Pure functions over cases as the service presents them.
"""
