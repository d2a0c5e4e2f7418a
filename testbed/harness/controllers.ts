import { join } from 'node:path';
import { ControllerProcess } from './fedctl.ts';
import type { Federation } from './federation.ts';
import { sleep, waitFor } from './wait.ts';

// More `fedctl controller` processes for a federation: restarts, standbys, another kubeconfig.
// Each gets its own log file so "became leader" or "controller running" is read from that process only.

let launched = 0;

/** Starts another `fedctl controller` with the federation's usual flags (plus `args`), by the CLI. */
export function launchController(
  fed: Federation,
  opts: { name: string; kubeconfig?: string; args?: string[] },
): ControllerProcess {
  launched += 1;
  const c = new ControllerProcess(join(fed.tb.stateDir, `controller-${opts.name}-${launched}.log`));
  c.start(
    [
      '--host-cluster-context',
      'cluster0',
      '--metrics-port',
      '0',
      '--coredns-binary',
      fed.tb.binDir,
      ...(opts.args ?? []),
    ],
    opts.kubeconfig ?? fed.kubeconfig,
  );
  return c;
}

/** Sends `signal` to the controller by its own pid and waits for the process to exit. */
export async function signalController(c: ControllerProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const pid = c.pid;
  if (pid === undefined || !c.running()) throw new Error(`controller ${c.logFile} is not running`);
  process.kill(pid, signal);
  await waitFor(`controller pid ${pid} to exit after ${signal}`, () => !c.running(), {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
}

/** Whether the controller's log says it holds the lease. */
export const isLeader = (c: ControllerProcess) => /"msg":"became leader"/.test(c.tail(100_000));

/**
 * Waits until the controller leads, has started every controller ("controller running") and
 * answers /readyz with 200; returns its metrics port.
 */
export async function waitControllerReady(c: ControllerProcess, timeoutMs = 90_000): Promise<number> {
  const port = await waitFor(
    `controller ${c.logFile} running and serving /readyz`,
    () => {
      if (!c.running()) throw new Error(`controller exited; log tail:\n${c.tail(20)}`);
      const log = c.tail(100_000);
      if (!/"msg":"controller running"/.test(log)) return undefined;
      return Number(log.match(/serving \/healthz[^\n]*127\.0\.0\.1:(\d+)/)?.[1]) || undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
  await waitFor(
    `controller /readyz on port ${port}`,
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  return port;
}

/** Waits for a standby to report that it waits for the lease, then a little longer to prove it does not lead. */
export async function waitStandby(c: ControllerProcess): Promise<void> {
  await waitFor('the standby to wait for the lease', () => /waiting to become leader/.test(c.tail(200)), {
    timeoutMs: 60_000,
  });
  await sleep(2000);
  if (isLeader(c)) throw new Error(`the standby ${c.logFile} became leader while the leader was running`);
}
