"""Tests of what models and gateways accept, their prices and failures (storyboard/targets/)."""
