"""The AI consultation: seven sections of chat that fill the nine ``user_*`` tables.

- ``models``: the section list and the pydantic models of an engine's turn
  (the reply and the facts extracted from the user's message).
- ``engine``: the interface every engine implements, and the reference-data
  lookup engines use to recognise exercises, foods, modalities, meal times
  and event types.
"""
