"""Test set-up: the same offline environment as every workflow rule."""

from yoloshrink import offline

offline.apply()
