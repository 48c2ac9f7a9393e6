"""What ships: the wheel run outside the checkout (the container image: make container-test)."""
