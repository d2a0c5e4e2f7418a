// Validation of every value fedctl writes into a Corefile. A Corefile is parsed by a lexer where
// `{`, `}` and `#` change the structure anywhere outside quotes, so one unchecked value coming from a
// user's object (a Domain, a namespace, a DNS address) could close a block early, comment out the
// rest of a line or open a new server: the next CoreDNS restart would then crash-loop and take the
// cluster's DNS down. Values are therefore checked against a small allow-list before rendering.

import { isIP } from 'node:net';

/** A value fedctl refused to put into a Corefile; `value` is the offending input as given. */
export class CorefileValueError extends Error {
  readonly value: string;
  constructor(what: string, value: string, problem: string) {
    super(`${what} ${JSON.stringify(value)}: ${problem}`);
    this.name = 'CorefileValueError';
    this.value = value;
  }
}

// Characters that alter Corefile structure or tokenisation wherever they appear.
const HOSTILE = /[{}#"'\s\\]/;

function refuseHostile(what: string, value: string): void {
  if (typeof value !== 'string') throw new CorefileValueError(what, String(value), 'must be a string');
  if (value === '') throw new CorefileValueError(what, value, 'must not be empty');
  const m = HOSTILE.exec(value);
  if (m) {
    const ch = m[0] === '\n' ? 'a newline' : /\s/.test(m[0]) ? 'whitespace' : `"${m[0]}"`;
    throw new CorefileValueError(what, value, `contains ${ch}, which is not allowed in a Corefile value`);
  }
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Record names may carry underscores (service labels such as _http._tcp); zones may not.
const RECORD_LABEL = /^[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?$/;

function checkName(what: string, value: string, label: RegExp): string {
  refuseHostile(what, value);
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (name === '') throw new CorefileValueError(what, value, 'the root zone is not allowed here');
  if (name !== name.toLowerCase()) throw new CorefileValueError(what, value, 'must be lowercase');
  if (name.length > 253) throw new CorefileValueError(what, value, 'is longer than 253 characters');
  for (const l of name.split('.')) {
    if (l.length > 63) throw new CorefileValueError(what, value, `label "${l}" is longer than 63 characters`);
    if (!label.test(l)) {
      throw new CorefileValueError(
        what,
        value,
        l === ''
          ? 'has an empty label'
          : `label "${l}" is not a lowercase RFC 1123 label (a-z, 0-9, "-", not starting or ending with "-")`,
      );
    }
  }
  return name;
}

/** Checks a DNS zone (lowercase RFC 1123, trailing dot optional) and returns it without the trailing dot. */
export function checkZone(value: string, what = 'zone'): string {
  return checkName(what, value, LABEL);
}

/** Like checkZone but also allows `_` in labels, as DNS record owner names may. */
export function checkRecordName(value: string, what = 'record name'): string {
  return checkName(what, value, RECORD_LABEL);
}

/** Checks a port number (integer 1–65535). */
export function checkPort(value: number, what = 'port'): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new CorefileValueError(what, String(value), 'must be an integer from 1 to 65535');
  }
  return value;
}

/** Checks an IP address (v4 or v6, no brackets, no zone index). */
export function checkIp(value: string, what = 'IP address'): string {
  refuseHostile(what, value);
  if (isIP(value) === 0) throw new CorefileValueError(what, value, 'is not an IP address');
  if (value.includes('%')) throw new CorefileValueError(what, value, 'IPv6 zone indexes are not allowed');
  return value;
}

export interface HostPort {
  ip: string;
  port?: number;
}

/**
 * Parses an upstream DNS server address: `ip`, `ipv4:port` or `[ipv6]:port`. A bare IPv6 address is
 * accepted too (it cannot carry a port without brackets).
 */
export function parseUpstream(value: string, what = 'upstream'): HostPort {
  refuseHostile(what, value);
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) {
    const ip = bracketed[1]!;
    if (isIP(ip) !== 6) throw new CorefileValueError(what, value, 'brackets may only hold an IPv6 address');
    checkIp(ip, what);
    return bracketed[2] === undefined ? { ip } : { ip, port: portOf(what, value, bracketed[2]) };
  }
  if (isIP(value) !== 0) return { ip: checkIp(value, what) };
  const v4 = /^([0-9.]+):(\d+)$/.exec(value);
  if (v4 && isIP(v4[1]!) === 4) return { ip: v4[1]!, port: portOf(what, value, v4[2]!) };
  throw new CorefileValueError(what, value, 'is not an IP address, ip:port or [ipv6]:port');
}

function portOf(what: string, value: string, digits: string): number {
  const port = Number(digits);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || digits !== String(port)) {
    throw new CorefileValueError(what, value, 'port must be an integer from 1 to 65535');
  }
  return port;
}

/** The canonical text of an upstream address: `ip`, `ipv4:port` or `[ipv6]:port`. */
export function formatUpstream(hp: HostPort): string {
  if (hp.port === undefined) return hp.ip;
  return isIP(hp.ip) === 6 ? `[${hp.ip}]:${hp.port}` : `${hp.ip}:${hp.port}`;
}

/** Lowercases a user-given DNS name and drops one trailing dot, without validating it. */
export function normaliseName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** True when `name` equals `zone` or lies below it (both without trailing dots, lowercase). */
export function isInZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}
