// Keeps the control plane running for as long as the process lives (issue #9): it starts the
// controllers when this process leads, stops them when the lease is lost (the host API server away
// longer than the renew deadline, or another controller took over), and starts them afresh — every
// cache read again — when leadership returns. A start that fails because the host is unreachable is
// retried with backoff. Only a permanent error (bad credentials, no permission, an invalid object:
// see isPermanent) ends the process, through `done`: at once on the first start (a configuration
// error, said right away), but after the control plane has run once only when it persists for
// PERMANENT_RETRIES attempts — an API server that has just come back can refuse requests for a few
// seconds while its authorizer warms up.
import { exponentialDelay, sleep } from '../kube/backoff.ts';
import { errorMessage, isPermanent } from '../kube/errors.ts';
import type { Election } from '../kube/leader.ts';
import type { Logger } from '../kube/logger.ts';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface SupervisorOptions<P extends Stoppable> {
  /** Without one the control plane runs from the start (only when exactly one controller runs). */
  election?: Pick<Election, 'leading' | 'lost'>;
  /** Starts everything; `signal` aborts when the term ends (or stop()) before the start finished. */
  start(signal: AbortSignal): Promise<P>;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Delay after a failed start: base doubling to max (default 1 s to 30 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long stopping the controllers may take before it is logged and abandoned (default 30 s). */
  stopTimeoutMs?: number;
}

export interface Supervisor<P> {
  /** The controllers are running: this process leads and its control plane has started (/readyz). */
  ready(): boolean;
  /** The running control plane, if any. */
  current(): P | undefined;
  /** Resolves after stop(); rejects with the error when a start failed permanently. */
  readonly done: Promise<void>;
  /** Stops the controllers (if running) and the loop. */
  stop(): Promise<void>;
}

const PERMANENT_RETRIES = 5;

export function superviseControlPlane<P extends Stoppable>(o: SupervisorOptions<P>): Supervisor<P> {
  let running: P | undefined;
  let stopping = false;
  let onStop!: () => void;
  const stopRequested = new Promise<'stop'>((r) => {
    onStop = () => r('stop');
  });
  const never = new Promise<never>(() => undefined);

  const stopPlane = async (plane: P) => {
    const limitMs = o.stopTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), limitMs);
    });
    const result = await Promise.race([
      plane.stop().then(
        () => 'stopped' as const,
        (e: unknown) => {
          o.log.warn('stopping the control plane failed', { error: errorMessage(e) });
          return 'stopped' as const;
        },
      ),
      timedOut,
    ]);
    clearTimeout(timer);
    if (result === 'timeout') o.log.warn('the control plane did not stop in time; going on', { limitMs });
  };

  const loop = async () => {
    let failures = 0;
    let permanentFailures = 0;
    let ranOnce = false;
    while (!stopping) {
      let term = 0;
      if (o.election) {
        const got = await Promise.race([o.election.leading(), stopRequested]);
        if (got === 'stop') return;
        term = got;
      }
      const termOver: Promise<string> = o.election ? o.election.lost(term) : never;
      const abort = new AbortController();
      void termOver.then(() => abort.abort());
      void stopRequested.then(() => abort.abort());
      let plane: P;
      try {
        plane = await o.start(abort.signal);
      } catch (e) {
        if (stopping) return;
        if (abort.signal.aborted) {
          o.log.warn('start interrupted: leadership lost', { error: errorMessage(e) });
          continue;
        }
        if (isPermanent(e) && (!ranOnce || ++permanentFailures >= PERMANENT_RETRIES)) throw e;
        const delayMs = exponentialDelay(failures++, o.retryBaseMs ?? 1000, o.retryMaxMs ?? 30_000);
        o.log.warn('starting the control plane failed; retrying', { error: errorMessage(e), delayMs });
        await Promise.race([sleep(delayMs, undefined, abort.signal), stopRequested]);
        continue;
      }
      failures = 0;
      permanentFailures = 0;
      ranOnce = true;
      if (abort.signal.aborted) {
        await stopPlane(plane);
        continue;
      }
      running = plane;
      const why = await Promise.race([termOver, stopRequested]);
      running = undefined;
      await stopPlane(plane);
      if (why === 'stop') return;
      o.log.info('controllers stopped; campaigning to lead again', { reason: why });
    }
  };

  const done = loop();
  // Whoever awaits `done` sees a failure; nobody awaiting must not crash the process.
  done.catch(() => undefined);
  return {
    ready: () => running !== undefined,
    current: () => running,
    done,
    async stop() {
      stopping = true;
      onStop();
      await done.catch(() => undefined);
    },
  };
}
