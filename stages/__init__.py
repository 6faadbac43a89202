"""retina-unet: a DVC pipeline that reproduces a small U-Net study on retinal vessel segmentation."""
