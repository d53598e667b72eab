"""Scheduled reassessment (DOMAIN §8): the pure controllers and the closed-loop simulation.

- ``controllers``: trend weight, observed rate, data confidence, expenditure estimate, the
  calorie PID and the volume controller; :func:`~sharpened.reassessment.controllers.reassess`
  turns one program's period (plain values) and its stored state into change items.
- ``simulation``: synthetic users living through 12 periods under the controller
  (``python -m sharpened.reassessment.simulation`` prints the trajectories).
"""
