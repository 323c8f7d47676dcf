"""ResNet-50 from timm against torchvision's reference ResNet-50 (same names as MMPose's ResNet)."""
from __future__ import annotations

import pytest
import torch
import torchvision

from rtmposelib.models.resnet import ResNet50


def test_same_weights_and_outputs_as_torchvision_resnet50():
    torch.manual_seed(0)
    reference = torchvision.models.resnet50(weights=None).eval()
    ours = ResNet50().eval()
    ref_state = {k: v for k, v in reference.state_dict().items() if not k.startswith("fc.")}
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in ref_state.items()}
    assert sum(p.numel() for p in ours.parameters()) == 23_508_032
    ours.load_state_dict(ref_state)
    images = torch.randn(1, 3, 256, 192)
    trunk = torch.nn.Sequential(*list(reference.children())[:-2])
    with torch.no_grad():
        (feats,) = ours(images)
        torch.testing.assert_close(feats, trunk(images), rtol=1e-5, atol=1e-5)
    assert feats.shape == (1, 2048, 8, 6) and ours.out_channels == [2048]


def test_rejects_wrong_images():
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        ResNet50()(torch.randn(1, 4, 64, 64))
