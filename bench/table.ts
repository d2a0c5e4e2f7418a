// The benchmark's one table: one row per figure, per peer its baseline (measured on that peer's own
// testbed in the same run), its value (median and min–max over repeats), the ratio, and whether the
// goal is met. Pure: run.ts collects samples, this decides and formats.
import { pairedRatios, type Spread, spread } from './stats.ts';

/**
 * A goal on one figure: `ratio` bounds value / baseline (paired per repeat), `max` bounds the value
 * itself (0 for "no writes").
 */
export type Goal = { kind: 'ratio'; max: number } | { kind: 'max'; max: number };

export interface FigureSpec {
  /** Row label, also the figure's key in the raw JSON. */
  name: string;
  /** Unit the samples are in, printed after the number. */
  unit: string;
  decimals: number;
  goal?: Goal;
}

/** Raw samples of one figure for one peer: one value per repeat, and the same-run baseline if any. */
export interface Samples {
  values: number[];
  baseline?: number[];
}

/** peer name → figure name → samples. */
export type Results = Record<string, Record<string, Samples>>;

/** Adds one repeat's value (and its baseline) of `figure` for `peer`. */
export function record(
  results: Results,
  peer: string,
  figure: string,
  value: number,
  baseline?: number,
): void {
  const byFigure = results[peer] ?? {};
  results[peer] = byFigure;
  const s = byFigure[figure] ?? { values: [] };
  byFigure[figure] = s;
  s.values.push(value);
  if (baseline !== undefined) {
    s.baseline ??= [];
    s.baseline.push(baseline);
  }
  if (s.baseline !== undefined && s.baseline.length !== s.values.length)
    throw new Error(`${peer} / ${figure}: every repeat needs a baseline once one has one`);
}

export type Verdict = 'yes' | 'no' | '—';

/** Whether the median meets the goal; '—' without a goal or without the samples it needs. */
export function meets(goal: Goal | undefined, s: Samples | undefined): Verdict {
  if (!goal || !s || s.values.length === 0) return '—';
  if (goal.kind === 'max') return spread(s.values).median <= goal.max ? 'yes' : 'no';
  if (!s.baseline) return '—';
  return spread(pairedRatios(s.values, s.baseline)).median <= goal.max ? 'yes' : 'no';
}

export function formatGoal(goal: Goal | undefined, unit: string): string {
  if (!goal) return '—';
  if (goal.kind === 'ratio') return `≤ ${goal.max}×`;
  return goal.max === 0 ? '0' : `≤ ${goal.max} ${unit}`;
}

/** "16.30 s" for one repeat, "16.30 s (15.90–17.00)" for several; "1.05×" for a ratio. */
export function formatSpread(s: Spread, unit: string, decimals: number): string {
  if (s.n === 0) return '—';
  const f = (x: number) => x.toFixed(decimals);
  // A ratio's sign sits on the number (1.05×); other units follow a space.
  const u = unit === '×' || unit === '' ? unit : ` ${unit}`;
  return s.n === 1 ? `${f(s.median)}${u}` : `${f(s.median)}${u} (${f(s.min)}–${f(s.max)})`;
}

/**
 * Rows for `figures` in their order: figure | per peer: baseline, value, ratio | goal | per peer: met?
 * (with one peer: figure | baseline | fedctl | ratio | goal | met?). Figures no peer measured are left out.
 */
export function tableRows(
  figures: readonly FigureSpec[],
  results: Results,
  peers: readonly string[],
): string[][] {
  const header = [
    'figure',
    ...peers.flatMap((p) => [`baseline (${p} testbed)`, `${p} (median, min–max)`, 'ratio']),
    'goal',
    ...peers.map((p) => (peers.length === 1 ? 'met?' : `${p} met?`)),
  ];
  const rows = [header];
  for (const f of figures) {
    const per = peers.map((p) => results[p]?.[f.name]);
    if (per.every((s) => s === undefined)) continue;
    rows.push([
      f.name,
      ...per.flatMap((s) => {
        if (!s) return ['—', '—', '—'];
        return [
          s.baseline ? formatSpread(spread(s.baseline), f.unit, f.decimals) : '—',
          formatSpread(spread(s.values), f.unit, f.decimals),
          s.baseline ? formatSpread(spread(pairedRatios(s.values, s.baseline)), '×', 2) : '—',
        ];
      }),
      formatGoal(f.goal, f.unit),
      ...per.map((s) => meets(f.goal, s)),
    ]);
  }
  return rows;
}

/** A Markdown table (readable in a terminal, pasteable into the README). */
export function formatTable(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: readonly string[]) =>
    `| ${r.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)]
    .map((l) => `${l}\n`)
    .join('');
}
