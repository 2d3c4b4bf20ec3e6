"""Code every app may import: plain Python, no models, no Django apps."""
