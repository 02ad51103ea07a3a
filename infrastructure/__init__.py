"""Running the stack outside AWS: the embedded local AWS (moto) and the `dsr-intake` command."""
