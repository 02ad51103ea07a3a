"""What the coordinators' console shows and does (issue #11): pure, like the intake; the
register and the clock are passed in."""
