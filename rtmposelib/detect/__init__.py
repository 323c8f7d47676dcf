"""RTMDet-nano person detector: model, assigner, losses, training and export."""
