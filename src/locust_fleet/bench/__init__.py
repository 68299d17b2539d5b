"""`make bench`: measured capacity, scale and overhead of the fleet on the sandbox,
side by side with baselines (wrk, untuned hosts, linear scaling). See main.py."""
