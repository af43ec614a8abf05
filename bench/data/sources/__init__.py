"""The built-in datasets, one module each; every module here registers itself when imported."""
