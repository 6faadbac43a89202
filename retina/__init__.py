"""retina-unet: the library behind the stage commands in stages/."""
