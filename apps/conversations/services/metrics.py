"""Service metrics of conversations, recomputed set-wise from their messages (two statements for any
number of conversations). Definitions, as managers read them:

- first response: the customer's first message → the first reply after it, by bot or human
  (``first_response_seconds``); bot and human separately (``bot_first_response_seconds``,
  ``human_first_response_seconds``).
- handoff (转人工): a human agent answers after the bot (or the channel says so). It happened when the
  customer's wait for a human began: the first message after the bot's last answer before the first
  human answer. Human first response after a handoff counts from then; without a bot, from the
  customer's first message.
- agent reply gap: for each human answer to the customer, from the start of the customer's turn (their
  first unanswered message) to the answer; average and longest.
- handle time (AHT): from the start of the human's involvement (handoff, or the customer's first
  message when there was no bot) to the last message; none for bot-only conversations.
- bot failure streak: the longest run of consecutive bot answers each followed by a customer message
  saying it failed (``CONVERSATIONS_BOT_FAILURE_PATTERN``: 不是这个, 没用, 转人工 …).
- SLA: the most urgent tier whose tags the conversation carries, else its product's tier, else the
  default; breached when the human first response (the bot's when no human took part) exceeds the
  tier's target, or the customer was never answered.
- served by: the human agent who wrote most replies (the bot when no human took part).
- repeat contact: the same customer came back about the same product within
  ``CONVERSATIONS_REPEAT_CONTACT_HOURS`` (48 h) of the end: not first-contact-resolved (FCR).
Response times and gaps count business time only for teams with business hours.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def _seconds(start: str, end: str) -> str:
    """SQL for the seconds between two moments: business time where the team has hours, plain arithmetic
    (no function call per row) where it has none."""
    return (
        f"(CASE WHEN tm.business_hours IS NULL THEN extract(epoch FROM {end} - {start})::float8 "
        f"ELSE kb_business_seconds({start}, {end}, tm.business_hours) END)"
    )


# One ordered pass over each conversation's messages computes running counts; everything after is plain
# aggregation of those rows. The conversations and their messages are looked up by key (= ANY), so that a
# batch costs the same whether the tables hold a thousand rows or a hundred million.
_RECOMPUTE = f"""
WITH targets AS MATERIALIZED (
    SELECT c.id, c.tags, c.product_id, tm.business_hours
    FROM conversations_conversation c
    LEFT JOIN conversations_team tm ON tm.id = c.team_id
    WHERE c.id = ANY(%(ids)s::bigint[])
), ordered AS MATERIALIZED (
    SELECT m.conversation_id, m.role, m.sent_at, m.masked_count, m.agent_id,
           lag(m.role) OVER w AS prev_role,
           -- the customer says the bot's answer just before failed (不是这个, 没用 …)
           CASE WHEN m.role = 'customer' AND lag(m.role) OVER w = 'bot' THEN m.text ~ %(failure)s ELSE false END
               AS complaint,
           count(*) FILTER (WHERE m.role = 'customer') OVER w AS customers_so_far,
           count(*) FILTER (WHERE m.role = 'agent') OVER w AS agents_so_far,
           count(*) FILTER (WHERE m.role = 'bot') OVER w AS bots_so_far,
           count(*) FILTER (WHERE m.role IN ('agent', 'bot')) OVER w AS replies_so_far
    FROM conversations_message m
    WHERE m.conversation_id = ANY(%(ids)s::bigint[])
    WINDOW w AS (PARTITION BY m.conversation_id ORDER BY m.sent_at, m.id ROWS UNBOUNDED PRECEDING)
), firsts AS (
    SELECT conversation_id,
           count(*) AS messages,
           count(*) FILTER (WHERE role = 'customer') AS customer_messages,
           count(*) FILTER (WHERE role = 'agent') AS agent_messages,
           count(*) FILTER (WHERE role = 'bot') AS bot_messages,
           COALESCE(sum(masked_count), 0) AS masked,
           COALESCE(mode() WITHIN GROUP (ORDER BY agent_id) FILTER (WHERE role = 'agent'),
                    mode() WITHIN GROUP (ORDER BY agent_id) FILTER (WHERE role = 'bot')) AS served_by,
           min(sent_at) AS started, max(sent_at) AS ended,
           min(sent_at) FILTER (WHERE role = 'customer') AS customer_first,
           min(sent_at) FILTER (WHERE role = 'agent') AS agent_first,
           -- a human's first reply to the customer: on a phone call the agent speaks first ("您好，…"), and
           -- that greeting is no response to anything
           min(sent_at) FILTER (WHERE role = 'agent' AND customers_so_far > 0) AS agent_reply_first,
           min(sent_at) FILTER (WHERE role IN ('agent', 'bot') AND customers_so_far > 0) AS reply_first,
           min(sent_at) FILTER (WHERE role = 'bot' AND customers_so_far > 0) AS bot_first,
           bool_or(role = 'bot' AND agents_so_far = 0) AS bot_before_agent,
           -- the first message after the bot's last answer before the first human answer
           max(sent_at) FILTER (
               WHERE prev_role = 'bot' AND (agents_so_far = 0 OR (agents_so_far = 1 AND role = 'agent'))
           ) AS handoff_moment
    FROM ordered GROUP BY conversation_id
), gaps AS MATERIALIZED (
    -- A turn: the customer's messages after a reply, up to the next reply (system notices are nobody's
    -- turn). Its gap runs from its first customer message to a human's reply.
    SELECT t.conversation_id,
           avg({_seconds("t.turn_start", "t.answered")}) AS avg_gap,
           max({_seconds("t.turn_start", "t.answered")}) AS max_gap
    FROM (
        SELECT conversation_id,
               min(sent_at) FILTER (WHERE role = 'customer') AS turn_start,
               min(sent_at) FILTER (WHERE role = 'agent') AS answered
        FROM ordered
        GROUP BY conversation_id, replies_so_far - (role IN ('agent', 'bot'))::int
    ) t
    JOIN targets tm ON tm.id = t.conversation_id
    WHERE t.turn_start IS NOT NULL AND t.answered IS NOT NULL
    GROUP BY t.conversation_id
), streaks AS MATERIALIZED (
    -- Consecutive failed bot answers share the number of unfailed ones before them.
    SELECT conversation_id, max(run) AS longest FROM (
        SELECT conversation_id, count(*) AS run
        FROM (SELECT conversation_id,
                     bots_so_far - row_number() OVER (PARTITION BY conversation_id ORDER BY bots_so_far) AS island
              FROM ordered WHERE complaint) failed
        GROUP BY conversation_id, island
    ) runs GROUP BY conversation_id
), computed AS MATERIALIZED (
    SELECT h.conversation_id, h.messages, h.customer_messages, h.agent_messages, h.bot_messages, h.masked,
           h.served_by, h.started, h.ended,
           (h.agent_first IS NOT NULL AND h.bot_before_agent) AS bot_handed_off,
           h.handoff_moment,
           {_seconds("h.customer_first", "h.reply_first")} AS first_response,
           {_seconds("h.customer_first", "h.bot_first")} AS bot_first_response,
           CASE WHEN h.agent_first IS NULL THEN NULL
                WHEN h.bot_before_agent THEN {_seconds("h.handoff_moment", "h.agent_first")}
                ELSE {_seconds("h.customer_first", "h.agent_reply_first")}
           END AS human_first_response,
           CASE WHEN h.agent_first IS NULL THEN NULL
                ELSE extract(epoch FROM h.ended - COALESCE(
                    CASE WHEN h.bot_before_agent THEN h.handoff_moment END, h.customer_first, h.started)) END
               AS handle,
           (h.customer_first IS NOT NULL) AS customer_spoke
    FROM firsts h
    JOIN targets tm ON tm.id = h.conversation_id
), tiers AS MATERIALIZED (
    SELECT c.id AS conversation_id,
           COALESCE(
               (SELECT t.id FROM conversations_slatier t WHERE t.match_tags && c.tags ORDER BY t.urgency, t.id LIMIT 1),
               (SELECT t.id FROM conversations_slatier t
                  JOIN conversations_slatier_products p ON p.slatier_id = t.id AND p.product_id = c.product_id
                ORDER BY t.urgency, t.id LIMIT 1),
               (SELECT t.id FROM conversations_slatier t WHERE t.is_default LIMIT 1)
           ) AS tier_id
    FROM targets c
)
UPDATE conversations_conversation c SET
    message_count = COALESCE(x.messages, 0),
    customer_message_count = COALESCE(x.customer_messages, 0),
    agent_message_count = COALESCE(x.agent_messages, 0),
    bot_message_count = COALESCE(x.bot_messages, 0),
    masked_count = COALESCE(x.masked, 0),
    served_by_id = x.served_by,
    started_at = x.started,
    ended_at = x.ended,
    first_response_seconds = x.first_response,
    bot_first_response_seconds = x.bot_first_response,
    human_first_response_seconds = x.human_first_response,
    handoff = COALESCE(x.bot_handed_off, false) OR COALESCE(c.stated_handoff, false),
    handoff_at = CASE WHEN x.bot_handed_off THEN x.handoff_moment END,
    avg_agent_reply_seconds = g.avg_gap,
    max_agent_reply_seconds = g.max_gap,
    handle_seconds = x.handle,
    bot_failure_streak = COALESCE(st.longest, 0),
    sla_tier_id = tr.tier_id,
    sla_target_seconds = t.first_response_seconds,
    sla_breached = CASE
        WHEN t.id IS NULL OR NOT COALESCE(x.customer_spoke, false) THEN NULL
        WHEN COALESCE(x.human_first_response, x.bot_first_response) IS NULL THEN true
        ELSE COALESCE(x.human_first_response, x.bot_first_response) > t.first_response_seconds END
FROM tiers tr
LEFT JOIN computed x ON x.conversation_id = tr.conversation_id
LEFT JOIN gaps g ON g.conversation_id = tr.conversation_id
LEFT JOIN streaks st ON st.conversation_id = tr.conversation_id
LEFT JOIN conversations_slatier t ON t.id = tr.tier_id
WHERE c.id = tr.conversation_id AND c.id = ANY(%(ids)s::bigint[])
"""

_REPEAT_CONTACTS = """
WITH pairs AS (
    SELECT DISTINCT c.customer_id, c.product_id
    FROM conversations_conversation c WHERE c.id = ANY(%(ids)s::bigint[]) AND c.customer_id IS NOT NULL
), judged AS (
    -- Per customer and product, by index (a lateral lookup: never a scan of all conversations).
    -- (customer, product, started_at) is indexed: "product = product" and "both without product" are
    -- asked separately, each an index range scan.
    SELECT c.id, c.repeat_contact, COALESCE(
        CASE WHEN c.product_id IS NOT NULL THEN EXISTS (
            SELECT 1 FROM conversations_conversation later
            WHERE later.customer_id = c.customer_id AND later.product_id = c.product_id
              AND later.started_at > c.started_at
              AND later.started_at <= COALESCE(c.ended_at, c.started_at) + %(window)s * interval '1 hour'
              AND later.id <> c.id)
        ELSE EXISTS (
            SELECT 1 FROM conversations_conversation later
            WHERE later.customer_id = c.customer_id AND later.product_id IS NULL
              AND later.started_at > c.started_at
              AND later.started_at <= COALESCE(c.ended_at, c.started_at) + %(window)s * interval '1 hour'
              AND later.id <> c.id)
        END, false) AS came_back
    FROM pairs p
    CROSS JOIN LATERAL (
        SELECT c.id, c.customer_id, c.product_id, c.started_at, c.ended_at, c.repeat_contact
        FROM conversations_conversation c
        WHERE c.customer_id = p.customer_id
          AND (c.product_id = p.product_id OR (c.product_id IS NULL AND p.product_id IS NULL))
          AND c.started_at IS NOT NULL
        OFFSET 0  -- keeps the planner from flattening the lookup into a join over every conversation
    ) c
)
UPDATE conversations_conversation c SET repeat_contact = j.came_back
FROM judged j WHERE c.id = j.id AND j.repeat_contact IS DISTINCT FROM j.came_back
"""


def recompute_metrics(conversation_ids: list[int]) -> None:
    """Recompute the metrics of these conversations, and the repeat-contact flag of every conversation
    of the same customers and products (a late-arriving conversation changes its predecessors')."""
    if not conversation_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(_RECOMPUTE, {"ids": conversation_ids, "failure": settings.CONVERSATIONS_BOT_FAILURE_PATTERN})
        cursor.execute(
            _REPEAT_CONTACTS, {"ids": conversation_ids, "window": settings.CONVERSATIONS_REPEAT_CONTACT_HOURS}
        )
