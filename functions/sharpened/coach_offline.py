"""The offline coach: deterministic, rule-based answers (used when no OpenAI key is set).

It recognises a few intents in the user's message (calories and macros,
protein, training, sleep and recovery, motivation, pain or injury, greetings)
and answers from the user's context: their targets when the profile has them,
otherwise a general rule of thumb and a pointer to onboarding or the
consultation, which produce the targets. The message is data only: it
selects an answer, it never changes the rules or reaches anyone else's data.
"""

from __future__ import annotations

import re

from sharpened.consultation.engine import CoachContext
from sharpened.consultation.models import ChatMessage

_INTENTS: list[tuple[str, re.Pattern[str]]] = [
    (
        "injury",
        re.compile(
            r"\b(?:pain|hurts?|hurting|injur\w*|sprain\w*|dizzy|chest\s+pain|faint\w*|swollen"
            r"|numb\w*|tweak\w*|pulled\s+a)\b",
            re.I,
        ),
    ),
    ("protein", re.compile(r"\bprotein\b", re.I)),
    (
        "nutrition",
        re.compile(
            r"\b(?:calor\w*|kcal|macros?|carbs?|carbohydrates?|fats?|diet|eat\w*|food|meals?"
            r"|nutrition|hungry|snacks?|deficit|surplus|cut(?:ting)?|bulk(?:ing)?)\b",
            re.I,
        ),
    ),
    (
        "recovery",
        re.compile(
            r"\b(?:sleep\w*|tired|fatigue\w*|rest(?:\s+days?)?|recover\w*|sore(?:ness)?|doms"
            r"|exhausted|deload|overtrain\w*)\b",
            re.I,
        ),
    ),
    (
        "motivation",
        re.compile(
            r"\b(?:motivat\w*|lazy|give\s+up|giving\s+up|quit|bored|consisten\w*|discipline"
            r"|can't\s+be\s+bothered|stuck|plateau\w*|skipp\w*|procrastinat\w*)\b",
            re.I,
        ),
    ),
    (
        "training",
        re.compile(
            r"\b(?:train\w*|work\s?outs?|exercis\w*|gym|lift\w*|squat\w*|bench\w*|deadlift\w*"
            r"|reps?|sets?|cardio|run\w*|program(?:me)?|routine|split|strength|muscle|sessions?)\b",
            re.I,
        ),
    ),
    ("greeting", re.compile(r"^\s*(?:hi|hello|hey|good\s+(?:morning|afternoon|evening))\b", re.I)),
]

_GOAL_TRAINING: dict[str, str] = {
    "fat_loss": (
        "For fat loss, keep lifting 2-4 times a week to hold on to muscle (compound lifts, "
        "about 2 reps in reserve), add daily steps or easy cardio, and let the calorie deficit "
        "do the rest."
    ),
    "muscle_gain": (
        "For muscle gain, train each muscle about twice a week with 10-20 hard sets per muscle "
        "weekly, mostly 6-15 reps taken close to failure, and add a little weight or a rep "
        "whenever you can."
    ),
    "recomposition": (
        "For recomposition, train hard and progressively (compound lifts 3-4 times a week), eat "
        "around maintenance with plenty of protein, and judge progress by strength and "
        "measurements rather than the scale."
    ),
    "maintenance": (
        "To maintain, 2-3 full-body sessions a week with a few hard sets per muscle keep both "
        "strength and muscle; mix in some cardio you enjoy."
    ),
    "performance": (
        "For performance, plan your week around the sessions that matter most for your sport, "
        "keep strength work short and heavy, and make sure easy days are really easy."
    ),
}


def _intent(message: str) -> str:
    for name, pattern in _INTENTS:
        if pattern.search(message):
            return name
    return "fallback"


def _name(context: CoachContext) -> str:
    return f" {context.display_name.strip()}" if context.display_name else ""


def _targets(context: CoachContext) -> str | None:
    if context.daily_calorie_goal is None:
        return None
    macros = [
        f"{grams} g {label}"
        for grams, label in (
            (context.protein_g, "protein"),
            (context.carbs_g, "carbs"),
            (context.fat_g, "fat"),
        )
        if grams is not None
    ]
    text = f"your daily target is {context.daily_calorie_goal} kcal"
    return text + (f" ({', '.join(macros)})" if macros else "")


NO_TARGETS = (
    "I don't have calorie or macro targets for you yet: finish onboarding (or the AI "
    "consultation) and I'll have your own numbers."
)


class OfflineCoach:
    """CoachEngine without an LLM: deterministic rule-based replies."""

    name = "offline"
    model: str | None = None

    def reply(self, context: CoachContext, history: list[ChatMessage], message: str) -> str:
        """The answer to ``message`` for the user described by ``context`` (history unused)."""
        intent = _intent(message[:2000])
        targets = _targets(context)
        goal = _GOAL_TRAINING.get(context.primary_goal or "")
        if intent == "injury":
            return (
                "Sorry to hear that. Pain is a signal to stop the movement that causes it: don't "
                "train through sharp or worsening pain. If it is severe, came with a fall or a "
                "pop, or comes with chest pain, dizziness or numbness, see a doctor or "
                "physiotherapist today. Meanwhile, train what doesn't hurt and keep moving gently."
            )
        if intent == "protein":
            own = (
                f"Your plan sets {context.protein_g} g of protein a day. "
                if context.protein_g
                else ""
            )
            return (
                f"{own}A good rule of thumb is 1.6-2.2 g of protein per kg of body weight a day, "
                "spread over 3-5 meals of about 0.4 g/kg each (e.g. eggs or Greek yogurt at "
                "breakfast, chicken, fish, tofu or beans at lunch and dinner)."
                + ("" if context.protein_g else f" {NO_TARGETS}")
            )
        if intent == "nutrition":
            if targets:
                return (
                    f"Hi{_name(context)}, {targets}. Build each meal around a protein source, "
                    "add vegetables or fruit and a portion of carbs, and keep most of your "
                    "intake from whole foods; logging your meals shows how close you are."
                )
            return (
                f"{NO_TARGETS} Until then: base meals on protein, vegetables and whole-food "
                "carbs, and keep portions steady from day to day so changes are easy to judge."
            )
        if intent == "recovery":
            return (
                "Recovery is where progress happens: aim for 7-9 hours of sleep on a regular "
                "schedule, keep at least one or two easy or rest days a week, and if you feel "
                "run down for more than a week, take a lighter week (about half the sets)."
            )
        if intent == "motivation":
            return (
                "Motivation comes and goes; habits carry you. Put your sessions in your calendar "
                "like appointments, make the first step tiny (just get to the gym, or do one "
                "set), and track small wins: a rep more, a kilo more, a week without skipping."
            )
        if intent == "training":
            base = goal or (
                "A solid start is 3 full-body sessions a week built on squats, a hinge "
                "(deadlift), a push (bench or overhead press) and a pull (rows, pull-ups), "
                "adding weight or reps a little each week."
            )
            plan = (
                ""
                if goal
                else (
                    " Tell me your goal in onboarding (or take the consultation) and I'll "
                    "tailor it."
                )
            )
            notes = [n for n in context.notes if n][:3]
            extra = f" Note: {'; '.join(notes)}." if notes else ""
            return f"{base}{plan}{extra}"
        if intent == "greeting":
            return (
                f"Hi{_name(context)}! Ask me about your training, nutrition targets, protein, "
                "sleep and recovery, or staying motivated."
                + ("" if targets else " (Finish onboarding to get your own targets.)")
            )
        return (
            "I can help with training, calories and macros, protein, sleep and recovery, and "
            "motivation. What would you like to know?"
            + (f" For reference, {targets}." if targets else f" {NO_TARGETS}")
        )
