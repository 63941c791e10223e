"""fieldapp: dispute case records for rural police stations, offline and peer-to-peer."""

__version__ = "0.2.0"
