import { isIPv4 } from 'node:net';
import { startChild, stdoutOf } from '../src/kube/exec.ts';

// Tiny TCP listener and client that run inside a node's network namespace (`ip netns exec`), so
// suites can prove that traffic between node and pod addresses really flows — without any packet
// to a private address leaving the root namespace.

export interface NetnsListener {
  netns: string;
  host: string;
  port: number;
  /** Stops the listener (also stops by itself after its lifetime). */
  close(): void;
}

const LISTENER = `
const net = require('node:net');
const [host, port, reply, lifeMs] = JSON.parse(process.argv[1]);
const srv = net.createServer((c) => { c.on('error', () => {}); c.end(reply + '\\n'); });
srv.on('error', (e) => { console.error('listen failed: ' + e.message); process.exitCode = 1; });
srv.listen(port, host, () => console.log('listening'));
setTimeout(() => srv.close(), lifeMs).unref();
process.on('SIGTERM', () => srv.close());
`;

const CLIENT = `
const net = require('node:net');
const [host, port, timeoutMs] = JSON.parse(process.argv[1]);
const c = net.connect({ host, port });
let data = '';
c.setTimeout(timeoutMs, () => { console.error('timeout'); c.destroy(); process.exitCode = 1; });
c.on('data', (d) => { data += d; });
c.on('end', () => { process.stdout.write(data); });
c.on('error', (e) => { console.error(e.code || e.message); process.exitCode = 1; });
`;

function checkAddr(host: string): void {
  if (!isIPv4(host)) throw new Error(`not an IPv4 address: "${host}"`);
}

/** Starts a TCP listener on host:port inside `netns` that answers every connection with `reply`. */
export async function listenInNetns(
  netns: string,
  host: string,
  port: number,
  reply: string,
  lifetimeMs = 60_000,
): Promise<NetnsListener> {
  checkAddr(host);
  const child = await startChild(
    'ip',
    [
      'netns',
      'exec',
      netns,
      process.execPath,
      '-e',
      LISTENER,
      JSON.stringify([host, port, reply, lifetimeMs]),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`listener in ${netns} on ${host}:${port} did not start: ${err}`));
    }, 10_000);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`listener in ${netns} on ${host}:${port} exited (${code}): ${err.trim()}`));
    });
    child.stdout?.on('data', (d: Buffer) => {
      if (!d.toString().includes('listening')) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ netns, host, port, close: () => child.kill('SIGTERM') });
    });
  });
}

/** Connects from inside `netns` to host:port and returns what the server sent (trimmed). */
export async function connectFromNetns(
  netns: string,
  host: string,
  port: number,
  timeoutMs = 3000,
): Promise<string> {
  checkAddr(host);
  const out = await stdoutOf(
    'ip',
    ['netns', 'exec', netns, process.execPath, '-e', CLIENT, JSON.stringify([host, port, timeoutMs])],
    { timeoutMs: timeoutMs + 10_000 },
  );
  return out.trim();
}
