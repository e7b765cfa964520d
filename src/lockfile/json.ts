/**
 * JSON parsing with line:column on errors. JSON.parse's messages differ per engine (JavaScriptCore,
 * used by Bun, reports no position), so on failure a small scanner finds where the text goes wrong.
 *
 * @module
 */
import fs from "node:fs";
import { lineCol, LockfileError } from "./errors.ts";

/**
 * Parse `text` as JSON; on failure throw a {@link LockfileError} naming `file`, line and column.
 *
 * @example
 * ```ts
 * const lock = parseJson('{"lockfileVersion": 3}', "package-lock.json");
 * ```
 */
export function parseJson(text: string, file: string, hint: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (cause) {
    const found = findJsonError(body) ?? { offset: body.length, message: "invalid JSON" };
    const { line, column } = lineCol(body, found.offset);
    throw new LockfileError(file, `${found.message}. ${hint}`, { line, column, cause });
  }
}

/**
 * The JSON object in `file` (a package.json), or {} when it is missing, unreadable or not an object: for
 * settings read on the side, where the file's owner reports a broken one.
 *
 * @example
 * ```ts
 * readJsonObject("/nonexistent/package.json"); // {}
 * ```
 */
export function readJsonObject(file: string): Record<string, unknown> {
  try {
    const doc = JSON.parse(fs.readFileSync(file, "utf8"));
    return doc && typeof doc === "object" && !Array.isArray(doc) ? doc : {};
  } catch {
    return {};
  }
}

/**
 * The offset and description of the first syntax error in `text`, or null when it is valid JSON.
 *
 * @example
 * ```ts
 * findJsonError('{"a": 1,}'); // { offset: 8, message: "expected a string key, found '}'" }
 * ```
 */
export function findJsonError(text: string): { offset: number; message: string } | null {
  let i = 0;
  const fail = (expected: string): never => {
    const found = i >= text.length ? "end of file" : `'${text[i]}'`;
    throw { offset: i, message: `expected ${expected}, found ${found}` };
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const string = () => {
    if (text[i] !== '"') fail("'\"'");
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail("a closing '\"' before the end of the line");
      if (text[i] === "\\") {
        i++;
        if (text[i] === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) {
              i += k;
              fail("a hex digit in \\u escape");
            }
          }
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) fail("a valid escape");
      }
      i++;
    }
    if (i >= text.length) fail("a closing '\"'");
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === "-") fail("a value");
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail("a string key");
        string();
        ws();
        if (text[i] !== ":") fail("':'");
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") return void i++;
        fail("',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") return void i++;
        fail("',' or ']'");
      }
    }
    if (c === '"') return string();
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) return void (i += word.length);
    }
    number();
  };
  try {
    value();
    ws();
    if (i < text.length) fail("end of file");
    return null;
  } catch (e) {
    if (e && typeof e === "object" && "offset" in e) return e as { offset: number; message: string };
    throw e;
  }
}
