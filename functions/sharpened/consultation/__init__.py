"""The AI consultation: seven sections of chat that fill the nine ``user_*`` tables.

- ``models``: the sections, the facts each requires, and the pydantic models of
  an engine's turn (the reply and the facts extracted from the user's message).
- ``engine``: the interface every engine implements, and the reference lookup
  engines use to recognise exercises, foods, modalities, meal times, event types.
- ``offline`` (+ ``parsers``, ``lookup``): the deterministic engine used without an
  API key; ``openai_engine``: the LLM engine (``sharpened.llm``).
- ``writer``: writes a validated extraction under the user's RLS.
- ``service``: one turn end to end (the consultation-chat function).
- ``script``: a plain-English consultation that fills all nine tables (demo, tests).
"""
