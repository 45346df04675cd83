/**
 * Box-drawn text tables for the terminal, linear in their size. cli-table3 lays a table out in
 * time quadratic in its rows (8,000 rows: 2.5 s; a capture with 100k distinct methods did not
 * finish in 300 s), so the report draws its own: one pass to measure, one to print. Each table
 * shows at most `maxRows` rows and says how many more there are.
 */
import { escapeTerminal } from './escape.ts';

export type TextCell = string | number;

/** Rows shown per table unless told otherwise (`Infinity` shows all). */
export const DEFAULT_MAX_ROWS = 30;

/** Columns on screen: a code point is one column except East Asian wide ones (two). */
function width(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c >= 0x300 && c <= 0x36f) continue; // combining marks
    w +=
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x1f300 && c <= 0x1faff) ||
      (c >= 0x20000 && c <= 0x3fffd)
        ? 2
        : 1;
  }
  return w;
}

/** The lines of a cell: `\n` in a cell breaks it (the renderer's layout); controls are escaped. */
function cellLines(c: TextCell): string[] {
  return String(c).split('\n').map(escapeTerminal);
}

/**
 * A table as text. Numbers are right-aligned; a cell may span several lines (`\n`). Rows beyond
 * `maxRows` are left out and counted in a last line "… N more rows".
 */
export function textTable(
  head: readonly string[],
  rows: readonly (readonly TextCell[])[],
  maxRows: number = DEFAULT_MAX_ROWS,
): string {
  const shown = rows.length > maxRows ? rows.slice(0, Math.max(0, maxRows)) : rows;
  const body = shown.map((r) => head.map((_, i) => cellLines(r[i] ?? '')));
  const headLines = head.map((h) => cellLines(h));
  const widths = head.map((_, i) => {
    let w = 0;
    for (const l of headLines[i] ?? []) w = Math.max(w, width(l));
    for (const r of body) for (const l of r[i] ?? []) w = Math.max(w, width(l));
    return w;
  });
  const numeric = head.map((_, i) => shown.length > 0 && shown.every((r) => typeof r[i] === 'number'));
  const rule = (l: string, m: string, r: string) => `${l}${widths.map((w) => '─'.repeat(w + 2)).join(m)}${r}`;
  const out: string[] = [rule('┌', '┬', '┐')];
  const print = (cells: string[][], align: boolean) => {
    const height = Math.max(1, ...cells.map((c) => c.length));
    for (let k = 0; k < height; k++) {
      const parts = cells.map((c, i) => {
        const s = c[k] ?? '';
        const pad = ' '.repeat((widths[i] ?? 0) - width(s));
        return align && numeric[i] === true ? `${pad}${s}` : `${s}${pad}`;
      });
      out.push(`│ ${parts.join(' │ ')} │`);
    }
  };
  print(headLines, false);
  out.push(rule('├', '┼', '┤'));
  for (const r of body) print(r, true);
  out.push(rule('└', '┴', '┘'));
  if (rows.length > shown.length) out.push(`  … ${rows.length - shown.length} more rows`);
  return out.join('\n');
}
