"""Replication: operations, clocks, signed logs, merge, identity, protocol, transport."""
