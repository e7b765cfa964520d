/**
 * A fast reader for the YAML subset pnpm writes (block maps and sequences indented by spaces,
 * one-line flow maps and sequences, plain and quoted scalars). The general `yaml` library takes
 * ~60-150 ms on a 5,000-line lockfile, a large share of a no-op install; this takes a few.
 * Anything outside the subset returns undefined so the caller falls back to the full parser,
 * which also produces the positioned error messages.
 *
 * @module
 */

/** Thrown internally when the text leaves the subset. */
class Unsupported extends Error {}

type Value = unknown;
interface Frame {
  indent: number;
  container: Record<string, Value> | Value[];
}

/**
 * Parse pnpm-lock.yaml text if it stays within pnpm's output subset; undefined otherwise.
 *
 * @example
 * ```ts
 * fastPnpmYaml("lockfileVersion: '9.0'\n"); // { lockfileVersion: "9.0" }
 * ```
 */
export function fastPnpmYaml(text: string): Record<string, Value> | undefined {
  try {
    return parseBlock(text);
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

function parseBlock(text: string): Record<string, Value> {
  const root: Record<string, Value> = {};
  // Frames from outermost to innermost; a frame's indent is that of its entries.
  const stack: Frame[] = [{ indent: 0, container: root }];
  let pending: { parent: Record<string, Value>; key: string; indent: number } | null = null;
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n];
    if (line.endsWith("\r")) line = line.slice(0, -1);
    let indent = 0;
    while (line.charCodeAt(indent) === 32) indent++;
    if (indent === line.length) continue;
    const c = line[indent];
    if (c === "#" || c === "\t") {
      if (c === "\t") throw new Unsupported();
      continue;
    }
    if (line.startsWith("---") || line.startsWith("...") || line.startsWith("%")) throw new Unsupported();

    if (pending) {
      // The first line after "key:" decides whether the value is a map or a sequence.
      if (indent < pending.indent) {
        pending.parent[pending.key] = null;
      } else {
        const isSeq = line.startsWith("- ", indent) || line.length === indent + 1 && c === "-";
        if (indent === pending.indent && !isSeq) pending.parent[pending.key] = null;
        else {
          const container = isSeq ? [] : {};
          pending.parent[pending.key] = container;
          stack.push({ indent, container });
        }
      }
      pending = null;
    }
    while (stack.length > 1 && indent < stack[stack.length - 1].indent) stack.pop();
    const frame = stack[stack.length - 1];
    if (indent !== frame.indent) throw new Unsupported();

    if (Array.isArray(frame.container)) {
      if (c !== "-" || (line.length > indent + 1 && line[indent + 1] !== " ")) throw new Unsupported();
      const rest = line.slice(indent + 2).trim();
      if (rest === "" || isKeyLine(rest)) throw new Unsupported();
      frame.container.push(inlineValue(rest));
      continue;
    }
    const { key, rest } = splitKey(line, indent);
    if (Object.hasOwn(frame.container, key)) throw new Unsupported(); // let the full parser report it
    if (rest === "") {
      // The value is a block on the next lines (a sequence may sit at the key's own indent).
      frame.container[key] = null;
      pending = { parent: frame.container, key, indent };
    } else frame.container[key] = inlineValue(rest);
  }
  return root;
}

/** Whether a sequence item looks like "key: value" (a map in a sequence: not in the subset). */
function isKeyLine(s: string): boolean {
  if (s[0] === "'" || s[0] === '"' || s[0] === "{" || s[0] === "[") return false;
  return s.includes(": ") || s.endsWith(":");
}

/** Split "key: rest" at the first ": " (or a trailing ':'), unquoting the key. */
function splitKey(line: string, indent: number): { key: string; rest: string } {
  const q = line[indent];
  if (q === "'" || q === '"') {
    const { value, end } = quoted(line, indent);
    if (line[end] !== ":" || (end + 1 < line.length && line[end + 1] !== " ")) throw new Unsupported();
    return { key: value, rest: line.slice(end + 1).trim() };
  }
  if ("-?[]{}&*!|>%@`,#".includes(q)) throw new Unsupported();
  const sep = line.indexOf(": ", indent);
  let key: string;
  let rest: string;
  if (sep >= 0) {
    key = line.slice(indent, sep);
    rest = line.slice(sep + 2).trim();
  } else if (line.endsWith(":")) {
    key = line.slice(indent, -1);
    rest = "";
  } else throw new Unsupported();
  // Keys that YAML would type (numbers, booleans, null) are left to the full parser.
  if (key.includes(" #") || key !== key.trimEnd() || typeof plain(key) !== "string") throw new Unsupported();
  return { key, rest };
}

/** A value written on the key's own line: a flow collection or a scalar. */
function inlineValue(s: string): Value {
  if (s[0] === "{" || s[0] === "[") {
    const { value, end } = flow(s, 0);
    if (end !== s.length) throw new Unsupported();
    return value;
  }
  if (s[0] === "'" || s[0] === '"') {
    const { value, end } = quoted(s, 0);
    if (end !== s.length) throw new Unsupported();
    return value;
  }
  return plain(s);
}

/** A one-line flow map or sequence starting at s[i]. */
function flow(s: string, i: number): { value: Value; end: number } {
  const isMap = s[i] === "{";
  const close = isMap ? "}" : "]";
  const out: Record<string, Value> | Value[] = isMap ? {} : [];
  i++;
  const skip = () => {
    while (s[i] === " ") i++;
  };
  skip();
  if (s[i] === close) return { value: out, end: i + 1 };
  for (;;) {
    skip();
    let key: string | undefined;
    if (isMap) {
      if (s[i] === "'" || s[i] === '"') {
        const k = quoted(s, i);
        key = k.value;
        i = k.end;
        if (s[i] !== ":") throw new Unsupported();
        i++;
      } else {
        const sep = s.indexOf(": ", i);
        if (sep < 0) throw new Unsupported();
        key = s.slice(i, sep);
        if (/[,{}[\]'"]/.test(key)) throw new Unsupported();
        i = sep + 1;
      }
      skip();
    }
    let value: Value;
    if (s[i] === "{" || s[i] === "[") ({ value, end: i } = flow(s, i));
    else if (s[i] === "'" || s[i] === '"') ({ value, end: i } = quoted(s, i));
    else {
      let j = i;
      while (j < s.length && s[j] !== "," && s[j] !== close) j++;
      const raw = s.slice(i, j).trim();
      if (raw === "" || /[{}[\]]/.test(raw) || raw.includes(": ")) throw new Unsupported();
      value = plain(raw);
      i = j;
    }
    if (isMap) {
      if (Object.hasOwn(out, key!)) throw new Unsupported();
      (out as Record<string, Value>)[key!] = value;
    } else (out as Value[]).push(value);
    skip();
    if (s[i] === ",") {
      i++;
      continue;
    }
    if (s[i] === close) return { value: out, end: i + 1 };
    throw new Unsupported();
  }
}

/** A single- or double-quoted scalar starting at s[i]; `end` is just past the closing quote. */
function quoted(s: string, i: number): { value: string; end: number } {
  const q = s[i];
  if (q === "'") {
    let out = "";
    let j = i + 1;
    for (;;) {
      const k = s.indexOf("'", j);
      if (k < 0) throw new Unsupported();
      out += s.slice(j, k);
      if (s[k + 1] === "'") {
        out += "'";
        j = k + 2;
      } else return { value: out, end: k + 1 };
    }
  }
  let j = i + 1;
  while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
  if (j >= s.length) throw new Unsupported();
  const body = s.slice(i, j + 1);
  // JSON's escapes are a subset of YAML's; anything else goes to the full parser.
  if (/\\[^"\\/bfnrtu]/.test(body)) throw new Unsupported();
  return { value: JSON.parse(body) as string, end: j + 1 };
}

/** A plain scalar, typed as YAML 1.2's core schema does. */
function plain(s: string): Value {
  if ("&*!|>%@`#".includes(s[0]) || s.includes(" #") || s.startsWith("- ") || s === "-") {
    throw new Unsupported();
  }
  if (/^(~|null|Null|NULL)$/.test(s)) return null;
  if (/^(true|True|TRUE)$/.test(s)) return true;
  if (/^(false|False|FALSE)$/.test(s)) return false;
  if (/^[-+]?[0-9]+$/.test(s)) return Number.parseInt(s, 10);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(s)) return Number.parseFloat(s);
  if (/^(0o|0x|[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$)/.test(s)) throw new Unsupported();
  return s;
}
