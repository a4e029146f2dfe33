"""star-vm-catalog: turn the STAR VM image repository into a static, searchable inventory."""

__version__ = "0.1.0"
