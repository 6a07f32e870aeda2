/**
 * Console line syntax shared by everything that writes or reads console
 * lines (the console itself, `deno task admin`, the gateway dashboard):
 * shell-like words with single and double quotes and backslash escapes.
 * @module
 */
import { KaError } from "../errors.ts";

/**
 * Splits a console line into words. Whitespace separates words; single quotes
 * keep text literally; double quotes and a backslash outside quotes escape
 * the next character. An unclosed quote is INVALID_COMMAND.
 */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === "\\" && i + 1 < line.length) word += line[++i];
      else word += ch;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      inWord = true;
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === "\\" && i + 1 < line.length) word += line[++i];
      else word += ch;
    }
  }
  if (quote !== null) {
    throw KaError.of("INVALID_COMMAND", `Unclosed ${quote === "'" ? "single" : "double"} quote`);
  }
  if (inWord) words.push(word);
  return words;
}

/** Quotes `word` so that {@linkcode tokenize} gives it back unchanged. */
export function quoteWord(word: string): string {
  if (word !== "" && !/[\s'"\\]/.test(word)) return word;
  return `"${word.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
