"""The DVC pipeline's stages (dvc.yaml runs each as `python -m stages.<name>`): thin commands over the library."""
