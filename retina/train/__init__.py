"""The U-Net and its training: model, augmentation, device and precision, checkpoints, the trainer."""
