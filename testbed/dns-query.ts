import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { isPrivateIPv4 } from './cidr.ts';

// A tiny DNS client over UDP (RFC 1035) for tests: one question, answers decoded for the common
// types. Refuses private destination addresses unless told otherwise, because from the root network
// namespace such packets would leave the machine.

export const RR_TYPES = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  ANY: 255,
} as const;
export type RrType = keyof typeof RR_TYPES;

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export interface DnsRecord {
  name: string;
  type: string;
  ttl: number;
  /** A/AAAA: address; CNAME/NS/PTR: target; SRV: "prio weight port target"; TXT: joined strings. */
  data: string;
}

export interface DnsResponse {
  id: number;
  rcode: number;
  rcodeName: string;
  authoritative: boolean;
  truncated: boolean;
  answers: DnsRecord[];
  authority: DnsRecord[];
}

export interface DnsQueryOptions {
  timeoutMs?: number;
  /** Extra attempts after a timeout. */
  retries?: number;
  /** Allow a private (RFC 1918) server address; only sensible inside a network namespace. */
  allowPrivate?: boolean;
}

export function encodeName(name: string): Buffer {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const parts: Buffer[] = [];
  if (trimmed !== '') {
    for (const label of trimmed.split('.')) {
      const b = Buffer.from(label, 'ascii');
      if (b.length === 0 || b.length > 63) throw new Error(`invalid DNS label "${label}" in "${name}"`);
      parts.push(Buffer.from([b.length]), b);
    }
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function encodeQuery(id: number, name: string, type: RrType): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // standard query, recursion desired
  header.writeUInt16BE(1, 4); // one question
  const q = Buffer.alloc(4);
  q.writeUInt16BE(RR_TYPES[type], 0);
  q.writeUInt16BE(1, 2); // class IN
  return Buffer.concat([header, encodeName(name), q]);
}

/** Reads a possibly compressed name at `offset`; returns it and the offset after it. */
export function decodeName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1;
  for (let jumps = 0; jumps < 64; jumps++) {
    if (pos >= buf.length) throw new Error('DNS name runs past the end of the message');
    const len = buf[pos]!;
    if (len === 0) {
      return { name: labels.length ? `${labels.join('.')}.` : '.', next: next === -1 ? pos + 1 : next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (next === -1) next = pos + 2;
      pos = ((len & 0x3f) << 8) | buf[pos + 1]!;
      continue;
    }
    labels.push(buf.toString('ascii', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  throw new Error('DNS name has too many compression pointers');
}

const typeName = (t: number): string =>
  (Object.entries(RR_TYPES).find(([, v]) => v === t)?.[0] as string | undefined) ?? `TYPE${t}`;

function decodeRecord(buf: Buffer, offset: number): { rec: DnsRecord; next: number } {
  const { name, next: afterName } = decodeName(buf, offset);
  const type = buf.readUInt16BE(afterName);
  const ttl = buf.readUInt32BE(afterName + 4);
  const rdlen = buf.readUInt16BE(afterName + 8);
  const rdata = afterName + 10;
  let data: string;
  switch (type) {
    case RR_TYPES.A:
      data = [...buf.subarray(rdata, rdata + 4)].join('.');
      break;
    case RR_TYPES.AAAA: {
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(rdata + i).toString(16));
      data = groups.join(':');
      break;
    }
    case RR_TYPES.CNAME:
    case RR_TYPES.NS:
    case RR_TYPES.PTR:
      data = decodeName(buf, rdata).name;
      break;
    case RR_TYPES.SRV:
      data = [
        buf.readUInt16BE(rdata),
        buf.readUInt16BE(rdata + 2),
        buf.readUInt16BE(rdata + 4),
        decodeName(buf, rdata + 6).name,
      ].join(' ');
      break;
    case RR_TYPES.TXT: {
      const strings: string[] = [];
      for (let p = rdata; p < rdata + rdlen; ) {
        const l = buf[p]!;
        strings.push(buf.toString('utf8', p + 1, p + 1 + l));
        p += 1 + l;
      }
      data = strings.join('');
      break;
    }
    default:
      data = buf.subarray(rdata, rdata + rdlen).toString('hex');
  }
  return { rec: { name, type: typeName(type), ttl, data }, next: rdata + rdlen };
}

export function decodeResponse(buf: Buffer): DnsResponse {
  if (buf.length < 12) throw new Error(`DNS response too short (${buf.length} bytes)`);
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  let pos = 12;
  for (let i = 0; i < qd; i++) pos = decodeName(buf, pos).next + 4;
  const read = (n: number): DnsRecord[] => {
    const out: DnsRecord[] = [];
    for (let i = 0; i < n; i++) {
      const r = decodeRecord(buf, pos);
      out.push(r.rec);
      pos = r.next;
    }
    return out;
  };
  const answers = read(an);
  const authority = read(ns);
  const rcode = flags & 0x0f;
  return {
    id: buf.readUInt16BE(0),
    rcode,
    rcodeName: RCODES[rcode] ?? `RCODE${rcode}`,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    answers,
    authority,
  };
}

/** Accepts "host:port", "host" (port 53) or an object. */
export function parseServer(server: string | { host: string; port: number }): { host: string; port: number } {
  if (typeof server !== 'string') return server;
  const i = server.lastIndexOf(':');
  if (i === -1) return { host: server, port: 53 };
  const port = Number(server.slice(i + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad DNS server "${server}"`);
  return { host: server.slice(0, i), port };
}

function once(host: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no DNS answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('error', (e) => {
      clearTimeout(timer);
      sock.close();
      reject(e);
    });
    sock.on('message', (msg) => {
      if (msg.length < 2 || msg.readUInt16BE(0) !== query.readUInt16BE(0)) return; // not ours
      clearTimeout(timer);
      sock.close();
      resolve(msg);
    });
    sock.send(query, port, host);
  });
}

/** Sends one query and decodes the answer. */
export async function dnsQuery(
  server: string | { host: string; port: number },
  name: string,
  type: RrType = 'A',
  opts: DnsQueryOptions = {},
): Promise<DnsResponse> {
  const { host, port } = parseServer(server);
  if (!isIPv4(host)) throw new Error(`DNS server must be an IPv4 address, got "${host}"`);
  if (isPrivateIPv4(host) && !opts.allowPrivate) {
    throw new Error(
      `refusing to send DNS to private address ${host} from this namespace (allowPrivate not set)`,
    );
  }
  const retries = opts.retries ?? 2;
  let last: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    const query = encodeQuery(randomInt(0, 0x10000), name, type);
    try {
      return decodeResponse(await once(host, port, query, opts.timeoutMs ?? 2000));
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

/** Addresses of `name` (A records, following nothing); [] when there are none. */
export async function resolveA(
  server: string | { host: string; port: number },
  name: string,
  opts?: DnsQueryOptions,
): Promise<string[]> {
  const r = await dnsQuery(server, name, 'A', opts);
  return r.answers.filter((a) => a.type === 'A').map((a) => a.data);
}
