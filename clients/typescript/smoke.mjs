// @ts-check
/**
 * The TypeScript client's smoke test: what a bot does, over openapi-fetch and the types openapi-typescript
 * generated from the schema (build/clients/typescript/schema.d.ts), against a running portal.
 *
 * It asks three questions (expecting an answer, a "did you mean" list, a hand-off), chooses a suggestion,
 * sends feedback, posts a conversation batch with one bad item, lists articles with `updated_since`, and
 * rides out a 429 by waiting for `Retry-After`. Each step prints "ok <step>: …"; any unexpected result
 * prints "FAIL <step>: …" and exits 1.
 *
 * Environment (tests/clients/conftest.py's Portal.env()): KBPORTAL_URL; KBPORTAL_API_KEY (scopes answers,
 * articles:read, conversations:write); KBPORTAL_LIMITED_API_KEY (the same with a low rate limit); KBPORTAL_PRODUCT;
 * KBPORTAL_QUESTION_ANSWER, _CLARIFY, _HANDOFF (a question getting each decision); KBPORTAL_UPDATED_SINCE (before
 * the articles were published). Run by tests/clients/test_typescript_client.py; type-checked by
 * scripts/clients-typescript.sh.
 */
import createClient from "openapi-fetch";
import { setTimeout as sleep } from "node:timers/promises";

/** @typedef {import("./schema.js").paths} paths */
/** @typedef {import("openapi-fetch").Client<paths>} Api */

/** A check that did not hold: the step it belongs to and what was wrong. */
class SmokeFailure extends Error {}

let step = "setup";

/**
 * Fails the current step unless `condition` holds.
 * @param {unknown} condition
 * @param {string} message
 * @returns {asserts condition}
 */
function check(condition, message) {
  if (!condition) throw new SmokeFailure(message);
}

/** @param {string} details */
function ok(details) {
  console.log(`ok ${step}: ${details}`);
}

/** @param {string} name */
function env(name) {
  const value = process.env[name];
  check(value, `environment variable ${name} is not set`);
  return value;
}

/**
 * A client for one API key.
 * @param {string} key
 * @returns {Api}
 */
function apiFor(key) {
  return createClient({ baseUrl: env("KBPORTAL_URL"), headers: { Authorization: `Api-Key ${key}` } });
}

/**
 * Makes a call, and makes it again after the server's `Retry-After` (seconds) each time it answers 429.
 * @template {{ response: Response }} R
 * @param {() => Promise<R>} call
 * @param {number} [attempts] how many calls at most
 * @returns {Promise<R>}
 */
async function patiently(call, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    const result = await call();
    if (result.response.status !== 429 || attempt >= attempts) return result;
    const retryAfter = result.response.headers.get("Retry-After");
    check(retryAfter && /^\d+$/.test(retryAfter), `429 without a Retry-After in seconds (got ${retryAfter})`);
    console.log(`  429: waiting ${retryAfter}s (Retry-After)`);
    await sleep(Number(retryAfter) * 1000);
  }
}

/**
 * Asks a question: the portal's decision (answer, clarify or handoff), whichever it is.
 * @param {Api} api
 * @param {string} question
 */
async function ask(api, question) {
  const body = { question, product: env("KBPORTAL_PRODUCT") };
  const { data, error, response } = await patiently(() => api.POST("/api/v1/answers/", { body }));
  check(data, `POST /api/v1/answers/ answered ${response.status}: ${JSON.stringify(error)}`);
  return data;
}

/**
 * Sends whether the answer helped; fails unless the portal takes it (204).
 * @param {Api} api
 * @param {string} queryId
 * @param {boolean} helpful
 */
async function sendFeedback(api, queryId, helpful) {
  const { response, error } = await patiently(() =>
    api.POST("/api/v1/answers/{query_id}/feedback/", {
      params: { path: { query_id: queryId } },
      body: { helpful, comment: "TypeScript smoke test" },
    }),
  );
  check(response.status === 204, `feedback answered ${response.status}: ${JSON.stringify(error)}`);
}

/** @param {Api} api */
async function answerDirectly(api) {
  step = "answer";
  const data = await ask(api, env("KBPORTAL_QUESTION_ANSWER"));
  // Checking the decision narrows the type: an answer is there.
  check(data.decision === "answer", `decided ${data.decision}, not answer`);
  check(data.answer.text.length > 0 && data.handoff === false, "an answer without text, or handed off");
  await sendFeedback(api, data.query_id, true);
  ok(`${data.answer.article_id} v${data.answer.version} (confidence ${data.confidence.toFixed(2)}), feedback sent`);
}

/** @param {Api} api */
async function clarifyAndChoose(api) {
  step = "clarify";
  const data = await ask(api, env("KBPORTAL_QUESTION_CLARIFY"));
  check(data.decision === "clarify", `decided ${data.decision}, not clarify`);
  check(data.suggestions.length >= 2, `${data.suggestions.length} suggestions, expected at least 2`);
  ok(`did you mean: ${data.suggestions.map((s) => s.question).join(" | ")}`);

  step = "choose";
  const picked = data.suggestions[0];
  const { data: chosen, error, response } = await patiently(() =>
    api.POST("/api/v1/answers/{query_id}/choose/", {
      params: { path: { query_id: data.query_id } },
      body: { article_id: picked.article_id },
    }),
  );
  check(chosen, `choose answered ${response.status}: ${JSON.stringify(error)}`);
  const answered = chosen.answer?.article_id;
  check(answered === picked.article_id, `chose ${picked.article_id}, was answered from ${answered}`);
  await sendFeedback(api, data.query_id, true);
  ok(`picked ${picked.article_id}, answered, feedback sent`);
}

/** @param {Api} api */
async function handOff(api) {
  step = "handoff";
  const data = await ask(api, env("KBPORTAL_QUESTION_HANDOFF"));
  check(data.decision === "handoff", `decided ${data.decision}, not handoff`);
  check(data.handoff === true && data.handoff_reason, `handoff without a reason: ${JSON.stringify(data)}`);
  ok(`to a human (${data.handoff_reason})`);
}

/** @param {Api} api */
async function postBatchWithOneBadItem(api) {
  step = "batch";
  const externalId = `ts-smoke-${Date.now()}`;
  /** @type {import("./schema.js").components["schemas"]["ConversationIn"]} */
  const good = {
    channel: "app",
    external_id: externalId,
    product: env("KBPORTAL_PRODUCT"),
    messages: [{ id: "m1", role: "customer", sent_at: new Date().toISOString(), text: "退款什么时候到账?" }],
  };
  // No sent_at: the portal rejects this item alone, with its errors, and stores the good one.
  const bad = { channel: "app", external_id: `${externalId}-bad`, messages: [{ id: "m1", role: "customer" }] };
  const { data, error, response } = await patiently(() =>
    api.POST("/api/v1/conversations/", { body: { conversations: [good, bad] } }),
  );
  check(data && response.status === 200, `batch answered ${response.status}: ${JSON.stringify(error)}`);
  check("results" in data, `a batch answered with a single result: ${JSON.stringify(data)}`);
  const [first, second] = data.results;
  check(first?.status === "created" && first.external_id === externalId, `good item: ${JSON.stringify(first)}`);
  check(second?.status === "rejected" && second.index === 1, `bad item: ${JSON.stringify(second)}`);
  check(second.errors && Object.keys(second.errors).length > 0, "a rejected item without its errors");
  check(data.created === 1 && data.rejected === 1, `counts: ${JSON.stringify(data)}`);
  ok(`item 0 created, item 1 rejected (${Object.keys(second.errors).join(", ")})`);
}

/**
 * The articles changed since an instant, every page of them (a bot keeping an offline copy polls so).
 * @param {Api} api
 * @param {string} since RFC 3339
 */
async function articlesChangedSince(api, since) {
  /** @type {import("./schema.js").components["schemas"]["Article"][]} */
  const articles = [];
  for (let page = 1; ; page++) {
    const { data, error, response } = await patiently(() =>
      api.GET("/api/v1/articles/", { params: { query: { updated_since: since, page, page_size: 2 } } }),
    );
    check(data, `articles page ${page} answered ${response.status}: ${JSON.stringify(error)}`);
    articles.push(...data.results);
    if (!data.next) return articles;
  }
}

/** @param {Api} api */
async function listArticlesUpdatedSince(api) {
  step = "updated_since";
  const since = env("KBPORTAL_UPDATED_SINCE");
  const changed = await articlesChangedSince(api, since);
  check(changed.length > 0, `no article changed since ${since}`);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
  const none = await articlesChangedSince(api, tomorrow);
  check(none.length === 0, `${none.length} articles changed after ${tomorrow}`);
  const ids = changed.map((article) => article.external_id).join(", ");
  ok(`${changed.length} changed since ${since} (${ids}), none since tomorrow`);
}

/** @param {Api} limited a client whose key has a low rate limit */
async function rideOutRateLimit(limited) {
  step = "429";
  let refused = 0;
  // Counts every 429 the server sends, including those patiently() then waits out.
  limited.use({
    onResponse({ response }) {
      if (response.status === 429) refused++;
    },
  });
  for (let calls = 0; refused === 0 && calls < 200; calls++) {
    const { data, response } = await patiently(() => limited.GET("/api/v1/ping/"));
    check(data?.ok === true, `ping answered ${response.status} after waiting for Retry-After`);
  }
  check(refused > 0, "no 429 in 200 requests: is KBPORTAL_LIMITED_API_KEY rate-limited?");
  ok(`refused ${refused} time(s), served after waiting for Retry-After`);
}

async function main() {
  const api = apiFor(env("KBPORTAL_API_KEY"));
  await answerDirectly(api);
  await clarifyAndChoose(api);
  await handOff(api);
  await postBatchWithOneBadItem(api);
  await listArticlesUpdatedSince(api);
  await rideOutRateLimit(apiFor(env("KBPORTAL_LIMITED_API_KEY")));
  console.log("smoke: all steps passed");
}

main().catch((/** @type {unknown} */ exc) => {
  console.error(`FAIL ${step}: ${exc instanceof SmokeFailure ? exc.message : exc}`);
  if (!(exc instanceof SmokeFailure) && exc instanceof Error) console.error(exc.stack);
  process.exit(1);
});
