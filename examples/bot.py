"""A minimal bot over the generated Python client: one customer question per line on stdin.

    make clients   # generates build/clients/python (package kbportal_client)
    KBPORTAL_URL=http://127.0.0.1:8000 KBPORTAL_API_KEY=<key with the answers scope> \
        PYTHONPATH=build/clients/python python examples/bot.py
"""

import os

from kbportal_client import AuthenticatedClient, models
from kbportal_client.api.answers import v1_answers_choose_create as choose
from kbportal_client.api.answers import v1_answers_create as ask
from kbportal_client.api.answers import v1_answers_feedback_create as feedback

portal = AuthenticatedClient(os.environ["KBPORTAL_URL"], token=os.environ["KBPORTAL_API_KEY"], prefix="Api-Key")


def customer(prompt: str) -> str:
    """The customer's next line ("" once they are gone)."""
    try:
        return input(prompt).strip()
    except EOFError:
        return ""


while question := customer("Question: "):
    reply = ask.sync(client=portal, body=models.AnswerRequest(question=question))
    if isinstance(reply, models.Error):  # e.g. 429: wait for the response's Retry-After (sync_detailed has the headers)
        print(f"Sorry, try again later ({reply.code}).")
        continue
    answer = reply.answer if isinstance(reply, models.AnswerDecisionAnswer) else None
    if isinstance(reply, models.AnswerDecisionClarify):  # 推荐问: "did you mean" one of these standard questions?
        for number, suggestion in enumerate(reply.suggestions, 1):
            print(f"  {number}. {suggestion.question}")
        pick = customer("Did you mean (number, or 0 for none of these): ")
        numbers = [str(n) for n in range(1, len(reply.suggestions) + 1)]
        picked = reply.suggestions[int(pick) - 1].article_id if pick in numbers else None
        chosen = choose.sync(reply.query_id, client=portal, body=models.AnswerChoice(article_id=picked))
        if not chosen.answer and not chosen.handoff:
            print("Could you ask it in other words?")
            continue
        answer = chosen.answer
    if answer is None:  # 转人工: the decision was handoff, or none of the suggestions fitted once too often
        print("Handing you over to a human colleague.")
        continue
    print(answer.text)
    helpful = customer("Did this help? (y/n): ").lower().startswith("y")
    feedback.sync(reply.query_id, client=portal, body=models.AnswerFeedback(helpful=helpful))
