// @ts-check
// A minimal KB Portal bot over the generated TypeScript client: one customer question per line on stdin.
// Set up: npm install openapi-fetch && npx openapi-typescript docs/openapi.yaml -o schema.d.ts
// Run:    KBPORTAL_URL=http://127.0.0.1:8000 KBPORTAL_API_KEY=<key with the answers scope> node bot.mjs
import createClient from "openapi-fetch";
import { createInterface } from "node:readline";

/** @type {import("openapi-fetch").Client<import("./schema.js").paths>} */
const api = createClient({
  baseUrl: process.env.KBPORTAL_URL,
  headers: { Authorization: `Api-Key ${process.env.KBPORTAL_API_KEY}` },
});
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

/** Prints a prompt and reads the customer's next line (null when the input ends). @param {string} prompt */
async function read(prompt) {
  console.log(prompt);
  const line = await lines.next();
  return line.done ? null : line.value.trim();
}

/** Shows an answer, asks whether it helped, and sends that as feedback. @param {string} queryId @param {string} text */
async function answer(queryId, text) {
  console.log(`Bot: ${text}`);
  const helpful = (await read("Bot: did that help? (y/n)")) !== "n";
  const params = { path: { query_id: queryId } };
  await api.POST("/api/v1/answers/{query_id}/feedback/", { params, body: { helpful } });
}

for (let question; (question = await read("You:")); ) {
  const { data, response } = await api.POST("/api/v1/answers/", { body: { question, channel: "web" } });
  if (!data) console.log(`Bot: sorry, I cannot answer right now (HTTP ${response.status}).`);
  else if (data.decision === "answer") await answer(data.query_id, data.answer.text);
  else if (data.decision === "clarify") {
    data.suggestions.forEach((suggestion, i) => console.log(`  ${i + 1}. ${suggestion.question}`));
    const picked = data.suggestions[Number(await read("Bot: did you mean one of these? (number, 0: none)")) - 1];
    const { data: chosen } = await api.POST("/api/v1/answers/{query_id}/choose/", {
      params: { path: { query_id: data.query_id } },
      body: { article_id: picked?.article_id ?? null },
    });
    if (chosen?.answer) await answer(data.query_id, chosen.answer.text);
    else console.log(chosen?.handoff ? "Bot: let me get you a colleague." : "Bot: could you say it another way?");
  } else console.log(`Bot: let me get you a colleague (${data.handoff_reason}).`); // hand-off to a human
}
