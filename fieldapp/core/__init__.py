"""This device: its encrypted store and identity, its station membership, the passphrase
policy, and the service the command line and the TUI call to record and read cases.
"""
