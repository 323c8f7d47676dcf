"""rtmposelib: RTMPose (Jiang et al. 2023) rebuilt as a reproducible research suite."""
__version__ = "0.1.0"
