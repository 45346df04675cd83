/** Renderers: text, Markdown, HTML and SVG views of reports, specs, emulations and chaos runs. */
export { renderChaosHtml } from './chaos-html.ts';
export { renderHtml as renderEmulationHtml } from './emulation-html.ts';
export { renderSummary as renderEmulationSummary } from './emulation-text.ts';
export { escapeHtml, escapeMarkdown, escapeMermaid, escapeTerminal, markdownCode } from './escape.ts';
export { type RenderReportOptions, renderReport } from './report-text.ts';
export { renderSequenceSvg, type SequenceInput, type SequenceSvgOptions } from './sequence-svg.ts';
export { renderSpecHtml } from './spec-html.ts';
export { renderSpecMarkdown } from './spec-md.ts';
export { DEFAULT_MAX_ROWS, type TextCell, textTable } from './text-table.ts';
