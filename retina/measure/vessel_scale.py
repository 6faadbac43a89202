"""The scale of a photograph's vessels: how wide its widest vessels are, as a share of its field of view.

Every camera shows the main arcades beside the optic disc, the widest vessels of the eye (~150 µm). The 90th
percentile of the calibre (2 x distance transform) along the skeleton, over the field of view's diameter, says how
large the eye appears within the frame: a 30° camera shows the same vessels 1.5 times wider than DRIVE's 45°. Measured
on a grid of MEASURE_FOV_PX across the field of view whatever the photograph's size, so that every photograph is
measured alike.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage as ndi
from skimage.morphology import skeletonize

from retina.measure.morphology import MEASURE_FOV_PX, fov_diameter

PERCENTILE = 90  # of the calibre along the skeleton: the widest vessels, which every camera shows


def widest_calibre(prob: np.ndarray, fov: np.ndarray, threshold: float = 0.5) -> float:
    """The PERCENTILE-th percentile of the vessels' calibre along their skeleton over the field of view's diameter,
    the vessels being `prob` above `threshold` (a binary mask works as well) resized bilinearly to MEASURE_FOV_PX
    across the field of view; NaN with no vessel or no field of view."""
    diameter = fov_diameter(fov)
    if not diameter:
        return float("nan")
    shape = tuple(max(1, round(n * MEASURE_FOV_PX / diameter)) for n in prob.shape)
    planes = torch.from_numpy(np.stack([prob, fov]).astype(np.float32))[None]
    small = F.interpolate(planes, size=shape, mode="bilinear", align_corners=False)[0].numpy()
    inside = small[1] > 0.5
    vessels = (small[0] > threshold) & inside
    skeleton = skeletonize(vessels)
    if not skeleton.any():
        return float("nan")
    calibre = 2 * ndi.distance_transform_edt(vessels)[skeleton]
    return float(np.percentile(calibre, PERCENTILE) / fov_diameter(inside))
