"""localflyte's executor: runs a compiled workflow's nodes the way flytepropeller does (see README.md)."""
