"""The app's screens: unlock, then the caseload."""
