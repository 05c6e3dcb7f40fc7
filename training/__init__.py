"""Runnable training, calibration, simulation and evaluation scripts (`python -m training.NAME`)."""
