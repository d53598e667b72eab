"""Which engine answers: OpenAI when ``OPENAI_API_KEY`` is set, the offline engine otherwise.

One LLM client (and its connection pool) is shared by the process; engines are
cheap objects built per request around the request's reference lookup.
"""

from __future__ import annotations

from functools import lru_cache

from sharpened.coach import CoachService
from sharpened.coach_offline import OfflineCoach
from sharpened.coach_openai import OpenAICoach
from sharpened.consultation.engine import CoachEngine, ConsultationEngine, ReferenceLookup
from sharpened.consultation.lookup import DatabaseLookup
from sharpened.consultation.offline import OfflineEngine
from sharpened.consultation.openai_engine import OpenAIConsultationEngine
from sharpened.consultation.service import ConsultationService
from sharpened.db import get_database
from sharpened.llm import get_llm_client


def consultation_engine(lookup: ReferenceLookup) -> ConsultationEngine:
    llm = get_llm_client()
    if llm is None:
        return OfflineEngine(lookup)
    return OpenAIConsultationEngine(llm, reference=lookup)


def coach_engine() -> CoachEngine:
    llm = get_llm_client()
    return OfflineCoach() if llm is None else OpenAICoach(llm)


@lru_cache(maxsize=1)
def consultation_service() -> ConsultationService:
    return ConsultationService(get_database(), consultation_engine, DatabaseLookup)


@lru_cache(maxsize=1)
def coach_service() -> CoachService:
    return CoachService(get_database(), coach_engine())
