"""Program generation (pure, no I/O) and its output, the ProgramBundle.

- ``bundle``: the pydantic ProgramBundle that store_program_bundle(bundle jsonb) stores.
- ``energy``: TDEE, calorie and macro targets, the safety gate, feasibility (DOMAIN §1-3).
- ``training``: the training plan (DOMAIN §4). ``meals``: the meal plan (DOMAIN §5).
"""
