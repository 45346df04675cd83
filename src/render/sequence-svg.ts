/**
 * Sequence diagram of one operation as a standalone SVG string: one lifeline per service, one
 * arrow per message in order, time offsets on the left axis. Kinds are drawn apart:
 * call = solid line, filled head; reply = dashed, open head; cast = solid, open head;
 * fanout = thick line, double head; notification = dotted line to the "notifications" lifeline.
 * Own code instead of mermaid (3.4 MB, Node 22): the dashboard and the HTML spec inline it.
 */
import type { OperationStep } from '../correlate/operations.ts';
import { stepLabel } from '../correlate/operations.ts';
import { escapeHtml } from './escape.ts';

/** What the diagram needs: an Operation from src/correlate/operations.ts fits. */
export interface SequenceInput {
  readonly id: string;
  readonly name: string;
  readonly alias?: string;
  readonly lifelines: readonly string[];
  readonly steps: readonly OperationStep[];
}

export interface SequenceSvgOptions {
  /** Draw at most this many messages (the rest are counted in a footer). Default 400. */
  readonly maxSteps?: number;
  /** Title above the diagram; default "alias (name)". */
  readonly title?: string;
}

const COL = 170;
const LEFT = 84;
const TOP = 64;
const ROW = 24;

/** XML text and attributes: controls made visible too (XML 1.0 forbids most of them in a document). */
export const escapeXml = escapeHtml;

function fmtMs(ms: number): string {
  if (ms < 1000) return `+${Math.round(ms)} ms`;
  return `+${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(1, max - 1))}…`;
}

export function renderSequenceSvg(op: SequenceInput, options: SequenceSvgOptions = {}): string {
  const max = options.maxSteps ?? 400;
  const steps = op.steps.slice(0, max);
  const lifelines = [...op.lifelines];
  for (const s of steps) {
    if (!lifelines.includes(s.from)) lifelines.push(s.from);
    if (!lifelines.includes(s.to)) lifelines.push(s.to);
  }
  const idp = `sq${op.id.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}`;
  const xOf = (l: string): number => LEFT + COL / 2 + lifelines.indexOf(l) * COL;
  const width = LEFT + Math.max(1, lifelines.length) * COL + 20;
  const bodyEnd = TOP + 20 + steps.length * ROW;
  const height = bodyEnd + 70;
  const title = options.title ?? (op.alias !== undefined ? `${op.alias} (${op.name})` : op.name);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="sequence" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(`sequence diagram of ${title}`)}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="11">`,
  );
  out.push(
    `<defs>`,
    `<marker id="${idp}-filled" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1d4f9c"/></marker>`,
    `<marker id="${idp}-open" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10" fill="none" stroke="#1b7a3a" stroke-width="1.5"/></marker>`,
    `<marker id="${idp}-reply" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10" fill="none" stroke="#555" stroke-width="1.5"/></marker>`,
    `<marker id="${idp}-fanout" viewBox="0 0 16 10" refX="16" refY="5" markerWidth="7" markerHeight="4.5" orient="auto-start-reverse"><path d="M0,0 L8,5 L0,10 M8,0 L16,5 L8,10" fill="none" stroke="#b35900" stroke-width="1.8"/></marker>`,
    `<marker id="${idp}-note" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="6" markerHeight="6"><circle cx="5" cy="5" r="4" fill="#8a8a8a"/></marker>`,
    `</defs>`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="8" y="18" font-size="14" font-weight="600" fill="#111">${escapeXml(title)}</text>`);
  // time axis
  out.push(
    `<g class="axis"><line x1="${LEFT - 8}" y1="${TOP}" x2="${LEFT - 8}" y2="${bodyEnd}" stroke="#bbb"/>`,
    `<text x="8" y="${TOP - 6}" fill="#666">time ↓</text></g>`,
  );
  // lifelines
  out.push('<g class="lifelines">');
  for (const l of lifelines) {
    const x = xOf(l);
    out.push(
      `<g class="lifeline" data-name="${escapeXml(l)}"><rect x="${x - COL / 2 + 8}" y="${TOP - 36}" width="${COL - 16}" height="24" rx="4" fill="#eef2f8" stroke="#8aa0c0"/>`,
      `<text x="${x}" y="${TOP - 20}" text-anchor="middle" font-weight="600" fill="#1a2a44">${escapeXml(clip(l, 24))}</text>`,
      `<line x1="${x}" y1="${TOP - 12}" x2="${x}" y2="${bodyEnd}" stroke="#9aa8bc" stroke-dasharray="2,3"/></g>`,
    );
  }
  out.push('</g>');
  out.push('<g class="messages">');
  steps.forEach((s, i) => {
    const y = TOP + 14 + i * ROW;
    const x1 = xOf(s.from);
    const x2 = xOf(s.to);
    const label =
      (s.kind === 'fanout' ? 'fanout ' : '') +
      stepLabel(s) +
      (s.kind === 'notification' && s.topic === 'versioned_notifications' ? ' (versioned)' : '') +
      (s.kind === 'call' && s.latencyMs !== undefined ? ` (${Math.round(s.latencyMs)} ms)` : '');
    const full = `${s.kind} ${s.topic}${s.server !== undefined ? `.${s.server}` : ''} ${label} · ${s.bodySize} B${s.requestId !== undefined ? ` · ${s.requestId}` : ''}${s.fromInferred ? ' · sender from nova code' : ''}`;
    const style = styleOf(s.kind, idp);
    out.push(
      `<g class="msg ${s.kind}" data-kind="${s.kind}" data-seq="${s.seq}"><title>${escapeXml(full)}</title>`,
    );
    out.push(`<text x="8" y="${y + 4}" fill="#666" font-size="10">${fmtMs(s.offsetMs)}</text>`);
    if (x1 === x2) {
      const d = `M${x1},${y - 6} h34 v12 h-32`;
      out.push(`<path class="arrow" d="${d}" fill="none" ${style}/>`);
      out.push(`<text x="${x1 + 40}" y="${y + 3}" fill="#222">${escapeXml(clip(label, 34))}</text>`);
    } else {
      const dir = x2 > x1 ? 1 : -1;
      out.push(
        `<line class="arrow" x1="${x1 + dir * 2}" y1="${y}" x2="${x2 - dir * 3}" y2="${y}" ${style}/>`,
      );
      const span = Math.abs(x2 - x1);
      out.push(
        `<text x="${(x1 + x2) / 2}" y="${y - 4}" text-anchor="middle" fill="#222">${escapeXml(clip(label, Math.max(12, Math.floor(span / 6))))}</text>`,
      );
    }
    out.push('</g>');
  });
  out.push('</g>');
  const legendY = bodyEnd + 24;
  const legend: [string, string][] = [
    ['call', 'call'],
    ['reply', 'reply'],
    ['cast', 'cast'],
    ['fanout', 'fanout'],
    ['notification', 'notification'],
  ];
  out.push('<g class="legend">');
  legend.forEach(([k, text], i) => {
    const x = 8 + i * 120;
    out.push(
      `<line x1="${x}" y1="${legendY}" x2="${x + 40}" y2="${legendY}" ${styleOf(k, idp)}/><text x="${x + 46}" y="${legendY + 4}" fill="#333">${text}</text>`,
    );
  });
  if (op.steps.length > steps.length)
    out.push(
      `<text x="8" y="${legendY + 24}" fill="#a33">${op.steps.length - steps.length} more messages not drawn</text>`,
    );
  out.push('</g></svg>');
  return out.join('\n');
}

function styleOf(kind: string, idp: string): string {
  switch (kind) {
    case 'call':
      return `stroke="#1d4f9c" stroke-width="1.4" marker-end="url(#${idp}-filled)"`;
    case 'reply':
      return `stroke="#555" stroke-width="1.2" stroke-dasharray="6,4" marker-end="url(#${idp}-reply)"`;
    case 'cast':
      return `stroke="#1b7a3a" stroke-width="1.4" marker-end="url(#${idp}-open)"`;
    case 'fanout':
      return `stroke="#b35900" stroke-width="2.2" marker-end="url(#${idp}-fanout)"`;
    case 'notification':
      return `stroke="#8a8a8a" stroke-width="1.2" stroke-dasharray="1.5,3" marker-end="url(#${idp}-note)"`;
    default:
      return `stroke="#aa3333" stroke-width="1" marker-end="url(#${idp}-open)"`;
  }
}
