import assert from "node:assert/strict";
import { isKaError } from "../errors.ts";
import { quoteWord, tokenize } from "./words.ts";

Deno.test("tokenize() handles quotes and escapes; quoteWord() round-trips", () => {
  assert.deepEqual(tokenize(` a  'b c' "d \\" e" f\\ g ''`), ["a", "b c", 'd " e', "f g", ""]);
  const words = ["plain", "two words", `quo"te`, "back\\slash", "", "it's"];
  assert.deepEqual(tokenize(words.map(quoteWord).join(" ")), words);
});

Deno.test("tokenize() refuses an unclosed quote with INVALID_COMMAND", () => {
  assert.throws(() => tokenize(`topic create 'orders`), (err) => isKaError(err, "INVALID_COMMAND"));
});
