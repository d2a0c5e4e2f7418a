// Printers for command results: aligned tables for people, JSON and YAML for scripts.
// Everything here returns strings; the caller decides where they go (data always goes to stdout).
import YAML from 'yaml';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const isOutputFormat = (v: string): v is OutputFormat =>
  (OUTPUT_FORMATS as readonly string[]).includes(v);

export interface TableOptions {
  /** Sort rows by these column indexes, in order (default: [0]); `false` keeps the given order. */
  sortBy?: number[] | false;
}

/**
 * kubectl-style table: upper-case headers, columns separated by three spaces, trailing spaces trimmed.
 * Rows are sorted by the first column unless told otherwise, so output is stable between runs.
 */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  opts: TableOptions = {},
): string {
  const sortBy = opts.sortBy === undefined ? [0] : opts.sortBy;
  const body = rows.map((r) => headers.map((_, i) => cell(r[i])));
  if (sortBy !== false) {
    body.sort((a, b) => {
      for (const i of sortBy) {
        const c = (a[i] ?? '').localeCompare(b[i] ?? '', 'en', { numeric: true });
        if (c !== 0) return c;
      }
      return 0;
    });
  }
  const all = [headers.map((h) => h.toUpperCase()), ...body];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return `${all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('   ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

// Newlines or tabs inside a cell would break the column layout.
const cell = (v: string | undefined): string => (v ?? '').replace(/[\t\n\r]+/g, ' ');

/** Pretty JSON with a trailing newline; dates become ISO strings like the API server writes them. */
export const toJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Block-style YAML as kubectl prints it. Written in YAML 1.1 mode so strings such as "on", "yes" or
 * "0755" come out quoted: Kubernetes' own YAML reader is 1.1 and would turn them into booleans or
 * octal numbers when the output is fed back to kubectl.
 */
export const toYaml = (value: unknown): string =>
  YAML.stringify(JSON.parse(JSON.stringify(value ?? null)), { version: '1.1', lineWidth: 0 });

/** A table, or the given data as JSON/YAML. */
export function formatOutput(
  format: OutputFormat,
  data: unknown,
  table: () => { headers: readonly string[]; rows: readonly (readonly string[])[]; options?: TableOptions },
): string {
  if (format === 'json') return toJson(data);
  if (format === 'yaml') return toYaml(data);
  const t = table();
  return renderTable(t.headers, t.rows, t.options);
}

/**
 * Age as kubectl prints it: 45s, 12m, 5h, 3d (and 2m30s / 3h10m under a few units, for precision
 * when it matters). Unknown or future timestamps print as <unknown>.
 */
export function formatAge(since: Date | string | undefined, now: Date = new Date()): string {
  if (since === undefined) return '<unknown>';
  const t = since instanceof Date ? since.getTime() : Date.parse(since);
  if (Number.isNaN(t)) return '<unknown>';
  const s = Math.floor((now.getTime() - t) / 1000);
  if (s < 0) return '<unknown>';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}
