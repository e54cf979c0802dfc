"""What every feature shares. Nothing in here imports a feature package."""
