// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// exposition format 0.0.4. Enough for fedctl's own /metrics; no client library dependency.

export type LabelValues = Readonly<Record<string, string | number | boolean>>;

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Prometheus' default histogram buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type MetricType = 'counter' | 'gauge' | 'histogram';

/** Renders a sample value: integers as such, infinities and NaN in Prometheus spelling. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

const escapeLabelValue = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function renderLabels(pairs: ReadonlyArray<readonly [string, string]>): string {
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

abstract class Metric<S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: MetricType;
  protected readonly series = new Map<string, { labels: Array<[string, string]>; value: S }>();

  constructor(name: string, help: string, labelNames: readonly string[], reserved: readonly string[] = []) {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name "${name}"`);
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__') || reserved.includes(l)) {
        throw new Error(`metric ${name}: invalid label name "${l}"`);
      }
    }
    if (new Set(labelNames).size !== labelNames.length)
      throw new Error(`metric ${name}: duplicate label names`);
    this.name = name;
    this.help = help;
    this.labelNames = [...labelNames];
  }

  protected abstract initial(): S;

  /** The series for these label values, created on first use. Label sets must match exactly. */
  protected entry(labels: LabelValues | undefined): { labels: Array<[string, string]>; value: S } {
    const given = labels ?? {};
    const keys = Object.keys(given);
    if (keys.length !== this.labelNames.length || !this.labelNames.every((l) => l in given)) {
      throw new Error(
        `metric ${this.name}: labels {${keys.join(',')}} do not match declared {${this.labelNames.join(',')}}`,
      );
    }
    const pairs = this.labelNames.map((l) => [l, String(given[l])] as [string, string]);
    const key = JSON.stringify(pairs.map((p) => p[1]));
    let e = this.series.get(key);
    if (!e) {
      e = { labels: pairs, value: this.initial() };
      this.series.set(key, e);
    }
    return e;
  }

  /** Drops one labelled series (e.g. a cluster that left). */
  remove(labels: LabelValues): void {
    const pairs = this.labelNames.map((l) => String(labels[l]));
    this.series.delete(JSON.stringify(pairs));
  }

  /** Drops every series. */
  reset(): void {
    this.series.clear();
  }

  protected sortedSeries(): Array<{ labels: Array<[string, string]>; value: S }> {
    // Unlabelled metrics show a zero sample before their first use, like the official clients.
    if (this.labelNames.length === 0 && this.series.size === 0) this.entry({});
    return [...this.series.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
  }

  protected abstract renderSamples(): string[];

  render(): string {
    return [
      `# HELP ${this.name} ${escapeHelp(this.help)}`,
      `# TYPE ${this.name} ${this.type}`,
      ...this.renderSamples(),
    ]
      .map((l) => `${l}\n`)
      .join('');
  }
}

function splitArgs(a: LabelValues | number | undefined, b: number | undefined, dflt: number) {
  return typeof a === 'number' ? { labels: undefined, value: a } : { labels: a, value: b ?? dflt };
}

export class Counter extends Metric<number> {
  readonly type = 'counter' as const;
  protected initial(): number {
    return 0;
  }
  /** `inc()`, `inc(5)`, `inc({cluster: 'a'})`, `inc({cluster: 'a'}, 5)`. Counters never go down. */
  inc(labels?: LabelValues | number, value?: number): void {
    const a = splitArgs(labels, value, 1);
    if (!(a.value >= 0)) throw new Error(`counter ${this.name}: cannot increase by ${a.value}`);
    this.entry(a.labels).value += a.value;
  }
  get(labels?: LabelValues): number {
    return this.entry(labels).value;
  }
  protected renderSamples(): string[] {
    return this.sortedSeries().map((e) => `${this.name}${renderLabels(e.labels)} ${formatValue(e.value)}`);
  }
}

export class Gauge extends Metric<number> {
  readonly type = 'gauge' as const;
  protected initial(): number {
    return 0;
  }
  /** `set(3)` or `set({cluster: 'a'}, 3)`. */
  set(labels: LabelValues | number, value?: number): void {
    const a = splitArgs(labels, value, 0);
    this.entry(a.labels).value = a.value;
  }
  inc(labels?: LabelValues | number, value?: number): void {
    const a = splitArgs(labels, value, 1);
    this.entry(a.labels).value += a.value;
  }
  dec(labels?: LabelValues | number, value?: number): void {
    const a = splitArgs(labels, value, 1);
    this.entry(a.labels).value -= a.value;
  }
  get(labels?: LabelValues): number {
    return this.entry(labels).value;
  }
  protected renderSamples(): string[] {
    return this.sortedSeries().map((e) => `${this.name}${renderLabels(e.labels)} ${formatValue(e.value)}`);
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramState> {
  readonly type = 'histogram' as const;
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames, ['le']);
    const sorted = [...buckets].filter((b) => b !== Number.POSITIVE_INFINITY).sort((a, b) => a - b);
    if (sorted.some((b, i) => Number.isNaN(b) || (i > 0 && b === sorted[i - 1]))) {
      throw new Error(`histogram ${name}: buckets must be distinct numbers`);
    }
    this.buckets = sorted;
  }
  protected initial(): HistogramState {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  /** `observe(0.2)` or `observe({cluster: 'a'}, 0.2)`. */
  observe(labels: LabelValues | number, value?: number): void {
    const a = splitArgs(labels, value, 0);
    const s = this.entry(a.labels).value;
    for (let i = 0; i < this.buckets.length; i++) {
      if (a.value <= (this.buckets[i] as number)) s.counts[i] = (s.counts[i] as number) + 1;
    }
    s.sum += a.value;
    s.count += 1;
  }
  /** Starts a timer; calling the result observes the elapsed seconds and returns them. */
  startTimer(labels?: LabelValues, now: () => number = () => performance.now()): () => number {
    const start = now();
    return () => {
      const seconds = (now() - start) / 1000;
      this.observe(labels ?? {}, seconds);
      return seconds;
    };
  }
  get(labels?: LabelValues): { buckets: Record<string, number>; sum: number; count: number } {
    const s = this.entry(labels).value;
    const buckets: Record<string, number> = {};
    this.buckets.forEach((b, i) => {
      buckets[formatValue(b)] = s.counts[i] as number;
    });
    buckets['+Inf'] = s.count;
    return { buckets, sum: s.sum, count: s.count };
  }
  protected renderSamples(): string[] {
    const lines: string[] = [];
    for (const e of this.sortedSeries()) {
      this.buckets.forEach((b, i) => {
        lines.push(
          `${this.name}_bucket${renderLabels([...e.labels, ['le', formatValue(b)]])} ${e.value.counts[i]}`,
        );
      });
      lines.push(`${this.name}_bucket${renderLabels([...e.labels, ['le', '+Inf']])} ${e.value.count}`);
      lines.push(`${this.name}_sum${renderLabels(e.labels)} ${formatValue(e.value.sum)}`);
      lines.push(`${this.name}_count${renderLabels(e.labels)} ${e.value.count}`);
    }
    return lines;
  }
}

export type AnyMetric = Counter | Gauge | Histogram;

/**
 * Holds metrics by name. Asking twice for the same name with the same type and labels returns the
 * same metric (every informer or queue can declare what it uses); a conflicting declaration throws.
 */
export class Registry {
  readonly contentType = PROMETHEUS_CONTENT_TYPE;
  readonly #metrics = new Map<string, AnyMetric>();
  readonly #collectors: Array<() => void> = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#declare(name, 'counter', labelNames, () => new Counter(name, help, labelNames)) as Counter;
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#declare(name, 'gauge', labelNames, () => new Gauge(name, help, labelNames)) as Gauge;
  }

  histogram(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets: readonly number[] = DEFAULT_BUCKETS,
  ): Histogram {
    return this.#declare(
      name,
      'histogram',
      labelNames,
      () => new Histogram(name, help, labelNames, buckets),
    ) as Histogram;
  }

  get(name: string): AnyMetric | undefined {
    return this.#metrics.get(name);
  }

  /** Runs `fn` before every exposition; use it to set gauges that are cheaper to read than to track. */
  onCollect(fn: () => void): void {
    this.#collectors.push(fn);
  }

  /** The whole registry in the text exposition format, metrics sorted by name. */
  expose(): string {
    for (const c of this.#collectors) c();
    return [...this.#metrics.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((m) => m.render())
      .join('');
  }

  /** Alias of expose(). */
  metrics(): string {
    return this.expose();
  }

  #declare(name: string, type: MetricType, labelNames: readonly string[], make: () => AnyMetric): AnyMetric {
    const existing = this.#metrics.get(name);
    if (existing) {
      if (existing.type !== type || existing.labelNames.join(',') !== [...labelNames].join(',')) {
        throw new Error(
          `metric ${name} already registered as ${existing.type}{${existing.labelNames.join(',')}}, not ${type}{${labelNames.join(',')}}`,
        );
      }
      return existing;
    }
    const m = make();
    this.#metrics.set(name, m);
    return m;
  }
}
