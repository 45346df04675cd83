/**
 * Escaping of capture strings for every output a person reads. Method names, routing keys, queue
 * and exchange names come from the wire: whoever can publish to the broker chooses them, so they
 * may hold terminal escape sequences, `\r`, bidi overrides, HTML or Markdown. Each renderer passes
 * them through the helper of its medium, so hostile content shows as visible text and does nothing.
 */

/**
 * C0 and C1 controls, DEL, and the invisible characters that reorder or break text on screen (bidi
 * embeddings/overrides/isolates, marks, line and paragraph separators).
 */
const range = (a: number, b: number) => `${String.fromCharCode(a)}-${String.fromCharCode(b)}`;
const UNSAFE_TERMINAL = new RegExp(
  `[${range(0, 0x1f)}${range(0x7f, 0x9f)}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]`,
  'g',
);

function visible(c: string): string {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/**
 * Terminal text: every control and bidi character becomes its visible escape (`ESC` → `\x1b`,
 * `\r` → `\x0d`, U+202E → `\u202e`); everything else is unchanged. Used by every text renderer and
 * by the CLI for each capture string it prints.
 */
export function escapeTerminal(s: string): string {
  return s.replace(UNSAFE_TERMINAL, visible);
}

/** HTML/XML text and attribute values (quoted with either quote). Controls are made visible too. */
export function escapeHtml(s: string): string {
  return escapeTerminal(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/**
 * Markdown inline text (a table cell, a heading, a list item): one line, no HTML, no emphasis, no
 * links, no table column break (`_` inside a word stays: it never makes emphasis there). Backslash escapes are CommonMark's; `&` becomes an entity so no
 * entity is ever decoded from capture text.
 */
export function escapeMarkdown(s: string): string {
  return escapeTerminal(s)
    .replace(/&/g, '&amp;')
    .replace(/[\\`*[\]<>|~!#]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, (c) => `\\${c}`);
}

/**
 * Markdown code span: a run of backticks longer than any inside the text delimits it, so a capture
 * string cannot end the span (nor any fence); `|` is escaped because GFM splits table cells first.
 */
export function markdownCode(s: string): string {
  const t = escapeTerminal(s).replace(/\|/g, '\\|');
  let longest = 0;
  for (const m of t.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') || t === '' ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/**
 * Text inside a mermaid diagram (participant alias, message): everything outside a plain set is
 * written as mermaid's entity code `#<decimal>;`, so no `;` ends a statement, no newline starts
 * one, no backtick closes the Markdown fence and no `<` reaches the HTML mermaid renders.
 */
export function escapeMermaid(s: string): string {
  return escapeTerminal(s).replace(
    /[^A-Za-z0-9 _.,:/()+\-*=@[\]{}'×→…·\\]/gu,
    (c) => `#${c.codePointAt(0) ?? 0};`,
  );
}
