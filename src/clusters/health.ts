// Member cluster health, KubeFed style: GET /healthz with the member's own credentials every period,
// a verdict that flips only after `failureThreshold` consecutive failures (or `successThreshold`
// successes), and Ready/Offline conditions on the KubeFedCluster. Unlike KubeFed, which rewrote status
// on every probe, status is written only when what it says changes.

import {
  ClusterMessage,
  ClusterReason,
  ConditionType,
  conditionsEqual,
  removeCondition,
  setCondition,
} from '../api/conditions.ts';
import type { ClusterCondition, KubeFedClusterStatus } from '../api/types.ts';
import type { ClusterClients } from '../kube/clients.ts';
import type { KubeConfig } from '../kube/kubeconfig.ts';
import { kubeFetch } from '../kube/transport.ts';

export interface ProbeResult {
  /** /healthz answered 200 "ok". */
  ok: boolean;
  /** No HTTP answer at all (connection refused, timeout, TLS failure). */
  offline: boolean;
  /** gitVersion from /version, when the cluster answered. */
  version?: string;
  /** What went wrong, for condition messages. */
  error?: string;
}

/**
 * GET `path` with the cluster's credentials, judging no status. The probe's one deadline covers both
 * requests, so kubeFetch gets the signal and no timeout of its own.
 */
async function rawGet(
  kc: KubeConfig,
  path: string,
  signal: AbortSignal,
): Promise<{ status: number; body: string }> {
  const res = await kubeFetch(kc, { method: 'GET', path, signal, timeoutMs: 0, accept: '*/*' });
  return { status: res.status, body: await res.text() };
}

/**
 * One line for a network-level failure: the innermost cause (undici's "connect ECONNREFUSED …"),
 * since the condition message already says which cluster and the wrappers only add the URL.
 */
function networkError(e: unknown, timeoutMs: number): string {
  let err = e as { name?: string; message?: string; cause?: unknown } | undefined;
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  while (err?.cause && typeof err.cause === 'object') err = err.cause as typeof err;
  return err?.message ?? String(e);
}

/**
 * Probes a cluster: /healthz (must answer 200 "ok"), then /version for its gitVersion. Never throws.
 * HTTP answers other than "ok" (500, 401, …) mean reachable but not ready, which is more useful
 * than KubeFed's "offline" for every error.
 */
export async function probeCluster(
  clients: Pick<ClusterClients, 'kc'>,
  timeoutMs = 3000,
): Promise<ProbeResult> {
  const signal = AbortSignal.timeout(timeoutMs);
  let healthz: { status: number; body: string };
  try {
    healthz = await rawGet(clients.kc, '/healthz', signal);
  } catch (e) {
    return { ok: false, offline: true, error: networkError(e, timeoutMs) };
  }
  const ok = healthz.status === 200 && healthz.body.trim().toLowerCase() === 'ok';
  let version: string | undefined;
  try {
    const v = await rawGet(clients.kc, '/version', signal);
    if (v.status === 200) version = (JSON.parse(v.body) as { gitVersion?: string }).gitVersion || undefined;
  } catch {
    // A version is nice to have; health is what counts.
  }
  const result: ProbeResult = { ok, offline: false };
  if (version) result.version = version;
  if (!ok) result.error = `HTTP ${healthz.status}: ${healthz.body.trim().split('\n')[0] ?? ''}`.trim();
  return result;
}

export interface HealthThresholds {
  /** Consecutive failures that turn a Ready cluster not ready (KubeFed default 3). */
  failureThreshold?: number;
  /** Consecutive successes that turn a not-ready cluster Ready (KubeFed default 1). */
  successThreshold?: number;
}

export interface HealthState {
  /** Consecutive failed probes. */
  failures: number;
  /** Consecutive successful probes. */
  successes: number;
  /** The verdict; undefined until the first probe. */
  ready?: boolean;
  /** The conditions last computed (carry lastTransitionTime forward). */
  conditions?: ClusterCondition[];
}

export interface HealthVerdict {
  state: HealthState;
  conditions: ClusterCondition[];
  /** The conditions say something different from before (timestamps aside). */
  changed: boolean;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function withConditions(
  previous: readonly ClusterCondition[] | undefined,
  next: Array<Omit<ClusterCondition, 'lastTransitionTime' | 'lastProbeTime'>>,
  drop: string[],
  now: Date,
): ClusterCondition[] {
  // Strip probe times before merging so that they never count as a change.
  let list: ClusterCondition[] = (previous ?? []).map(({ lastProbeTime: _, ...c }) => c);
  for (const t of drop) list = removeCondition(list, t);
  for (const c of next) list = setCondition(list, c, now);
  // KubeFed's CRD requires lastProbeTime; it is the time this content was first seen.
  const probed = new Map((previous ?? []).map((c) => [c.type, c.lastProbeTime]));
  return list.map((c) => {
    const prev = (previous ?? []).find((p) => p.type === c.type);
    const same = prev !== undefined && conditionsEqual([prev], [c]);
    return { ...c, lastProbeTime: (same ? probed.get(c.type) : undefined) ?? iso(now) };
  });
}

/**
 * Pure threshold logic. The first probe decides directly (as KubeFed's first status does); after that
 * a Ready cluster stays Ready until `failureThreshold` failures in a row, and a not-ready one needs
 * `successThreshold` successes in a row. While the verdict holds against the latest probe, the
 * conditions stay exactly as they were.
 */
export function nextHealth(
  state: HealthState,
  probe: ProbeResult,
  thresholds: HealthThresholds = {},
  now: Date = new Date(),
): HealthVerdict {
  const failureThreshold = Math.max(1, thresholds.failureThreshold ?? 3);
  const successThreshold = Math.max(1, thresholds.successThreshold ?? 1);
  const failures = probe.ok ? 0 : state.failures + 1;
  const successes = probe.ok ? state.successes + 1 : 0;
  let ready: boolean;
  if (state.ready === undefined) ready = probe.ok;
  else if (state.ready && !probe.ok) ready = failures < failureThreshold;
  else if (!state.ready && probe.ok) ready = successes >= successThreshold;
  else ready = state.ready;

  const previous = state.conditions;
  let conditions: ClusterCondition[];
  if (ready !== probe.ok && previous !== undefined && previous.length > 0) {
    // Within the threshold: the verdict stands, and so does what it said.
    conditions = previous;
  } else if (probe.ok) {
    conditions = withConditions(
      previous,
      [
        {
          type: ConditionType.Ready,
          status: 'True',
          reason: ClusterReason.ClusterReady,
          message: ClusterMessage.healthzOk,
        },
        {
          type: ConditionType.Offline,
          status: 'False',
          reason: ClusterReason.ClusterReachable,
          message: ClusterMessage.reachable,
        },
      ],
      [ConditionType.ConfigMalformed],
      now,
    );
  } else if (probe.offline) {
    const detail = probe.error ?? 'no answer';
    conditions = withConditions(
      previous,
      [
        {
          type: ConditionType.Ready,
          status: 'False',
          reason: ClusterReason.ClusterNotReady,
          message: ClusterMessage.notReachable(detail),
        },
        {
          type: ConditionType.Offline,
          status: 'True',
          reason: ClusterReason.ClusterNotReachable,
          message: ClusterMessage.notReachable(detail),
        },
      ],
      [ConditionType.ConfigMalformed],
      now,
    );
  } else {
    conditions = withConditions(
      previous,
      [
        {
          type: ConditionType.Ready,
          status: 'False',
          reason: ClusterReason.ClusterNotReady,
          message: ClusterMessage.healthzNotOk(probe.error ?? ''),
        },
        {
          type: ConditionType.Offline,
          status: 'False',
          reason: ClusterReason.ClusterReachable,
          message: ClusterMessage.reachable,
        },
      ],
      [ConditionType.ConfigMalformed],
      now,
    );
  }
  return {
    state: { failures, successes, ready, conditions },
    conditions,
    changed: !conditionsEqual(previous, conditions),
  };
}

export interface ConfigError {
  reason: string;
  message: string;
}

/**
 * A member whose KubeFedCluster or Secret cannot make a client (no Secret, no token, bad CA) is not
 * probed: it is ConfigMalformed (reason from the registry, e.g. SecretNotFound) and not Ready, at once.
 * Counted as failures in full so that, once fixed, `successThreshold` good probes make it Ready.
 */
export function malformedHealth(
  state: HealthState,
  error: ConfigError,
  thresholds: HealthThresholds = {},
  now: Date = new Date(),
): HealthVerdict {
  const previous = state.conditions;
  const conditions = withConditions(
    previous,
    [
      { type: ConditionType.ConfigMalformed, status: 'True', reason: error.reason, message: error.message },
      {
        type: ConditionType.Ready,
        status: 'False',
        reason: ClusterReason.ClusterConfigMalformed,
        message: ClusterMessage.configMalformed(error.message),
      },
    ],
    // Reachability is unknown without a client.
    [ConditionType.Offline],
    now,
  );
  return {
    state: {
      failures: Math.max(state.failures + 1, thresholds.failureThreshold ?? 3),
      successes: 0,
      ready: false,
      conditions,
    },
    conditions,
    changed: !conditionsEqual(previous, conditions),
  };
}

export interface HealthMember {
  name: string;
  clients?: ClusterClients;
  /** Why no client could be built; a string gets reason ClusterConfigMalformed. */
  configError?: string | ConfigError;
  /** The KubeFedCluster as last seen: its status seeds what counts as already written. */
  cluster?: { status?: Partial<KubeFedClusterStatus> };
}

export interface HealthStatus {
  conditions: ClusterCondition[];
  kubernetesVersion?: string;
}

/** Structural subset of src/kube/logger.ts's Logger, so tests can pass anything. */
export interface HealthLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  debug?(message: string, fields?: Record<string, unknown>): void;
}

/** What KubeFedConfig.spec.clusterHealthCheck controls; changeable while running (configure()). */
export interface HealthSettings {
  periodMs: number;
  timeoutMs: number;
  thresholds: HealthThresholds;
}

export interface HealthProberOptions {
  periodMs?: number;
  timeoutMs?: number;
  thresholds?: HealthThresholds;
  members: () => HealthMember[];
  /** Write KubeFedCluster status; called only when conditions or version changed. */
  writeStatus: (name: string, status: HealthStatus) => Promise<void>;
  /** The Ready verdict of a member changed (also called for its first verdict). */
  onChange?: (name: string, ready: boolean) => void;
  log?: HealthLog;
  /** Injected in tests; default probeCluster. */
  probe?: (clients: ClusterClients, timeoutMs: number) => Promise<ProbeResult>;
  now?: () => Date;
}

interface Tracked {
  state: HealthState;
  version?: string;
  /** What the KubeFedCluster's status says as far as we know (after our last successful write). */
  written?: HealthStatus;
  inFlight?: Promise<void>;
  /** A request to this member hung: the next failed probe turns it not ready at once. */
  suspect?: boolean;
}

/**
 * Probes every member each period, all concurrently: each member's verdict and status write happen as
 * soon as its own probe returns, so one slow member never delays the others. A member whose previous
 * probe is still running is not probed again until it finishes.
 */
export class HealthProber {
  readonly #opts: HealthProberOptions;
  #settings: HealthSettings;
  readonly #tracked = new Map<string, Tracked>();
  /** Aborted when a member's verdict turns not ready, so work waiting on it stops waiting. */
  readonly #lost = new Map<string, AbortController>();
  #timer?: ReturnType<typeof setInterval>;

  constructor(opts: HealthProberOptions) {
    this.#opts = opts;
    this.#settings = {
      periodMs: opts.periodMs ?? 10_000,
      timeoutMs: opts.timeoutMs ?? 3_000,
      thresholds: { ...opts.thresholds },
    };
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.probeNow(), this.#settings.periodMs);
  }

  /** The settings in force. */
  settings(): HealthSettings {
    return { ...this.#settings, thresholds: { ...this.#settings.thresholds } };
  }

  /**
   * New settings (the KubeFedConfig was edited) take effect without a restart: the timeout and
   * thresholds from the next probe on (consecutive counts are kept, so a member two failures short of
   * a lowered threshold is judged against the new one), a new period at once — the next probe runs a
   * full new period from now. Returns whether anything changed.
   */
  configure(next: HealthSettings): boolean {
    const before = this.#settings;
    const same =
      before.periodMs === next.periodMs &&
      before.timeoutMs === next.timeoutMs &&
      (before.thresholds.failureThreshold ?? 3) === (next.thresholds.failureThreshold ?? 3) &&
      (before.thresholds.successThreshold ?? 1) === (next.thresholds.successThreshold ?? 1);
    if (same) return false;
    this.#settings = { ...next, thresholds: { ...next.thresholds } };
    this.#opts.log?.info('health check settings changed', {
      periodMs: next.periodMs,
      timeoutMs: next.timeoutMs,
      failureThreshold: next.thresholds.failureThreshold ?? 3,
      successThreshold: next.thresholds.successThreshold ?? 1,
    });
    if (this.#timer && before.periodMs !== next.periodMs) {
      this.stop();
      this.start();
    }
    return true;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  isReady(name: string): boolean {
    return this.#tracked.get(name)?.state.ready === true;
  }

  /** The verdict and status as the prober sees them (for `fedctl` diagnostics and tests). */
  status(
    name: string,
  ): { ready?: boolean; conditions?: ClusterCondition[]; kubernetesVersion?: string } | undefined {
    const t = this.#tracked.get(name);
    if (!t) return undefined;
    return { ready: t.state.ready, conditions: t.state.conditions, kubernetesVersion: t.version };
  }

  /**
   * A signal that aborts when the member is next judged not ready. Requests to a hung member then
   * stop holding workers at the verdict, not at their own time limit.
   */
  lostSignal(name: string): AbortSignal {
    let c = this.#lost.get(name);
    if (!c) {
      c = new AbortController();
      this.#lost.set(name, c);
    }
    return c.signal;
  }

  /**
   * A request to `name` got no answer in time: probe it now, and if that probe fails too, turn it not
   * ready without waiting for the failure threshold (two independent signs beat three probe periods).
   */
  suspect(name: string): void {
    const t = this.#tracked.get(name);
    if (t?.state.ready !== true || t.suspect === true) return;
    t.suspect = true;
    const m = this.#membersSafe().find((x) => x.name === name);
    if (m) void this.#probeMember(m);
  }

  #membersSafe(): HealthMember[] {
    try {
      return this.#opts.members();
    } catch {
      return [];
    }
  }

  /** Probes all current members now; resolves when every one of them is done. */
  async probeNow(): Promise<void> {
    let members: HealthMember[];
    try {
      members = this.#opts.members();
    } catch (e) {
      this.#opts.log?.warn('health: listing members failed', { error: String(e) });
      return;
    }
    const names = new Set(members.map((m) => m.name));
    for (const name of [...this.#tracked.keys()]) if (!names.has(name)) this.#tracked.delete(name);
    await Promise.all(members.map((m) => this.#probeMember(m)));
  }

  #probeMember(m: HealthMember): Promise<void> {
    let t = this.#tracked.get(m.name);
    if (!t) {
      const status = m.cluster?.status;
      t = {
        state: {
          failures: 0,
          successes: 0,
          conditions: status?.conditions ? [...status.conditions] : undefined,
        },
        version: status?.kubernetesVersion,
        written: status?.conditions
          ? { conditions: status.conditions, kubernetesVersion: status.kubernetesVersion }
          : undefined,
      };
      this.#tracked.set(m.name, t);
    }
    if (t.inFlight) return t.inFlight;
    const tracked = t;
    const run = this.#run(m, tracked).finally(() => {
      tracked.inFlight = undefined;
    });
    tracked.inFlight = run;
    return run;
  }

  async #run(m: HealthMember, t: Tracked): Promise<void> {
    const now = () => (this.#opts.now ? this.#opts.now() : new Date());
    const thresholds = this.#settings.thresholds;
    const before = t.state.ready;
    let verdict: HealthVerdict;
    if (m.configError !== undefined || !m.clients) {
      const err: ConfigError =
        m.configError === undefined
          ? { reason: ClusterReason.ClusterConfigMalformed, message: 'no client for this cluster' }
          : typeof m.configError === 'string'
            ? { reason: ClusterReason.ClusterConfigMalformed, message: m.configError }
            : m.configError;
      verdict = malformedHealth(t.state, err, thresholds, now());
    } else {
      const probe = this.#opts.probe ?? probeCluster;
      let result: ProbeResult;
      try {
        result = await probe(m.clients, this.#settings.timeoutMs);
      } catch (e) {
        result = { ok: false, offline: true, error: e instanceof Error ? e.message : String(e) };
      }
      // The member may have been unjoined while we waited.
      if (this.#tracked.get(m.name) !== t) return;
      const suspected = t.suspect === true;
      t.suspect = false;
      const failureThreshold = Math.max(1, thresholds.failureThreshold ?? 3);
      const state =
        suspected && !result.ok
          ? { ...t.state, failures: Math.max(t.state.failures, failureThreshold - 1) }
          : t.state;
      verdict = nextHealth(state, result, thresholds, now());
      if (result.version) t.version = result.version;
    }
    t.state = verdict.state;
    if (before !== verdict.state.ready) {
      if (verdict.state.ready !== true) {
        this.#lost.get(m.name)?.abort(new Error(`cluster ${m.name} is not ready`));
        this.#lost.delete(m.name);
      }
      this.#opts.log?.info('cluster health verdict', { cluster: m.name, ready: verdict.state.ready });
      try {
        this.#opts.onChange?.(m.name, verdict.state.ready === true);
      } catch (e) {
        this.#opts.log?.warn('health: onChange failed', { cluster: m.name, error: String(e) });
      }
    }
    const status: HealthStatus = { conditions: verdict.conditions };
    if (t.version) status.kubernetesVersion = t.version;
    const written = t.written;
    if (
      written &&
      conditionsEqual(written.conditions, status.conditions) &&
      (written.kubernetesVersion ?? '') === (status.kubernetesVersion ?? '')
    ) {
      return;
    }
    try {
      await this.#opts.writeStatus(m.name, status);
      t.written = status;
    } catch (e) {
      // Left unrecorded, so the next probe tries again.
      this.#opts.log?.warn('health: writing KubeFedCluster status failed', {
        cluster: m.name,
        error: String(e),
      });
    }
  }
}
