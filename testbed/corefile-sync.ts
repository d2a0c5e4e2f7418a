// The testbed's stand-in for the kubelet's ConfigMap volume: for each cluster, poll
// kube-system/coredns and write its `Corefile` key to the file the cluster's CoreDNS reads; CoreDNS's
// `reload` plugin picks the change up. Started detached by `testbed up`, stopped by pid.
//
// Corefiles that would make CoreDNS listen or forward beyond loopback are refused (see
// corefileSafetyProblems). Usage: node testbed/corefile-sync.ts <config.json>
// config.json: {"intervalMs": 1000, "clusters": [{"name","server","ca","cert","key","corefile"}]}

import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { corefileSafetyProblems } from './corefile.ts';

export interface SyncTarget {
  name: string;
  server: string;
  ca: string;
  cert: string;
  key: string;
  corefile: string;
}

export interface SyncConfig {
  intervalMs: number;
  clusters: SyncTarget[];
}

const log = (msg: string) => process.stderr.write(`${new Date().toISOString()} ${msg}\n`);

function getJson(agent: Agent, server: string, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), { agent, method: 'GET', timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function syncOne(t: SyncTarget, agent: Agent, last: Map<string, string>): Promise<void> {
  const r = await getJson(agent, t.server, '/api/v1/namespaces/kube-system/configmaps/coredns');
  if (r.status === 404) return; // not created yet (or deleted): keep serving the current file
  if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
  const corefile = (r.body as { data?: Record<string, string> } | undefined)?.data?.Corefile;
  if (typeof corefile !== 'string' || corefile.trim() === '') return;
  if (last.get(t.name) === corefile) return;
  // The testbed shares a machine: a Corefile that would listen or forward beyond loopback never
  // reaches CoreDNS. The refusal is logged and left beside the Corefile for diagnostics.
  const problems = corefileSafetyProblems(corefile);
  if (problems.length > 0) {
    log(
      `${t.name}: REFUSED the ConfigMap's Corefile (CoreDNS keeps the previous one): ${problems.join('; ')}`,
    );
    await writeFile(`${t.corefile}.rejected`, `${problems.join('\n')}\n---\n${corefile}`);
    last.set(t.name, corefile);
    return;
  }
  let current: string | undefined;
  try {
    current = readFileSync(t.corefile, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== corefile) {
    const tmp = `${t.corefile}.tmp`;
    await writeFile(tmp, corefile);
    await rename(tmp, t.corefile);
    log(`${t.name}: wrote ${t.corefile} (${corefile.length} bytes)`);
  }
  last.set(t.name, corefile);
}

export async function runSync(configPath: string, signal?: AbortSignal): Promise<void> {
  const cfg = JSON.parse(readFileSync(configPath, 'utf8')) as SyncConfig;
  const agents = new Map(
    cfg.clusters.map((t) => [
      t.name,
      new Agent({
        keepAlive: true,
        ca: readFileSync(t.ca),
        cert: readFileSync(t.cert),
        key: readFileSync(t.key),
      }),
    ]),
  );
  const last = new Map<string, string>();
  const failing = new Map<string, string>();
  log(`syncing ${cfg.clusters.map((c) => c.name).join(', ')} every ${cfg.intervalMs} ms`);
  while (!signal?.aborted) {
    // The state directory is gone: the testbed was torn down without us; stop quietly.
    if (!existsSync(configPath)) {
      log('config file removed; exiting');
      return;
    }
    await Promise.all(
      cfg.clusters.map(async (t) => {
        try {
          await syncOne(t, agents.get(t.name)!, last);
          if (failing.has(t.name)) log(`${t.name}: API reachable again`);
          failing.delete(t.name);
        } catch (e) {
          const msg = (e as Error).message;
          if (failing.get(t.name) !== msg) log(`${t.name}: ${msg} (will retry)`);
          failing.set(t.name, msg);
        }
      }),
    );
    await sleep(cfg.intervalMs, undefined, { signal }).catch(() => {});
  }
  for (const a of agents.values()) a.destroy();
  log('stopped');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const configPath = process.argv[2];
  if (!configPath) {
    process.stderr.write('usage: corefile-sync.ts <config.json>\n');
    process.exitCode = 2;
  } else {
    const stop = new AbortController();
    process.on('SIGTERM', () => stop.abort());
    process.on('SIGINT', () => stop.abort());
    runSync(configPath, stop.signal).catch((e) => {
      log(`fatal: ${(e as Error).stack ?? e}`);
      process.exitCode = 1;
    });
  }
}
