"""The officially released RTMPose / RTMDet weights by name: the registry, the download cache, and
``zoo:<name>`` resolution (:mod:`rtmposelib.zoo.registry`, :mod:`rtmposelib.zoo.download`)."""
