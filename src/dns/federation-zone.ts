/**
 * Serving the federation zone (a Domain's `domain`) from DNSEndpoint records with CoreDNS alone,
 * without ExternalDNS or an external DNS provider.
 *
 * Choice: one server block per zone in fedctl's Corefile section, answered by the `template` plugin
 * with one literal template per record set. Why this and not the alternatives:
 * - `file` serves real zone files, but needs a file on the CoreDNS host. Stock Deployments mount only
 *   the `Corefile` key of the ConfigMap, so fedctl would have to change the Deployment's volumes too.
 * - inline `hosts` entries need no file but only do A/AAAA with one TTL per block, have no CNAME and
 *   answer SERVFAIL (not NXDOMAIN) for unknown names, because hosts has no SOA to send.
 * - `template` is in every CoreDNS build, lives entirely in the Corefile and gives real DNS answers:
 *   per-record TTLs, genuine CNAMEs (the plugin resolves CNAME targets through CoreDNS itself, so a
 *   zone → region → global chain comes back complete in one answer), NXDOMAIN with an SOA for
 *   unknown names and NODATA for known names asked for another type (including empty non-terminals,
 *   RFC 8020). Each template carries a literal name regex and literal answers, no Go template code.
 *
 * The price is one template per record set and type, which is fine for the hundreds of names a
 * federation has. The block order of templates matters (first match wins) and is fixed here:
 * SOA/NS at the apex, then per-name A, AAAA and CNAME, then NODATA for every existing name, then
 * NXDOMAIN for the rest of the zone.
 *
 * What is not served, and reported as skipped: names outside every Domain zone, wildcard names,
 * record types other than A and CNAME, A targets that are not IP addresses, CNAMEs with several
 * different targets, CNAMEs at the zone apex and CNAME loops.
 */

import { isIP } from 'node:net';
import { DEFAULT_RECORD_TTL, type DNSEndpoint, type Domain, type Endpoint } from '../api/dns.ts';
import { objectKey } from '../kube/refs.ts';
import {
  CorefileValueError,
  checkIp,
  checkRecordName,
  checkZone,
  isInZone,
  normaliseName,
} from './validate.ts';

export type ZoneRecordType = 'A' | 'AAAA' | 'CNAME';

export interface ZoneRecord {
  /** Owner name, inside the zone, without trailing dot. */
  name: string;
  type: ZoneRecordType;
  /** Addresses for A/AAAA; exactly one name for CNAME. */
  targets: string[];
  ttl: number;
}

export interface RecordZone {
  zone: string;
  /** SOA MNAME (and NS target, when given); defaults to ns.<zone>. */
  nameServer?: string;
  records: ZoneRecord[];
}

export interface SkippedRecord {
  name: string;
  reason: string;
  /** The DNSEndpoint the record came from, `<namespace>/<name>`, when known. */
  source?: string;
}

/** TTL of the SOA and of negative answers (NXDOMAIN/NODATA are cached this long). */
export const NEGATIVE_TTL = 30;
const MAX_TTL = 2147483647;

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Validates and normalises a RecordZone (names lowercase, sorted records); throws CorefileValueError. */
export function validateRecordZone(z: RecordZone): RecordZone {
  const zone = checkZone(z.zone, 'federation zone');
  const nameServer =
    z.nameServer === undefined || z.nameServer === ''
      ? undefined
      : checkRecordName(z.nameServer, 'name server');
  const seen = new Map<string, ZoneRecordType>();
  const records = z.records.map((r): ZoneRecord => {
    const name = checkRecordName(r.name);
    if (!isInZone(name, zone))
      throw new CorefileValueError('record name', r.name, `is not inside zone ${zone}`);
    if (!Number.isInteger(r.ttl) || r.ttl < 0 || r.ttl > MAX_TTL) {
      throw new CorefileValueError(
        `TTL of ${name}`,
        String(r.ttl),
        `must be an integer from 0 to ${MAX_TTL}`,
      );
    }
    const other = seen.get(name);
    if (other === r.type) throw new CorefileValueError('record name', name, `has two ${r.type} record sets`);
    if (other !== undefined && (other === 'CNAME' || r.type === 'CNAME')) {
      throw new CorefileValueError('record name', name, `has both ${other} and ${r.type} records`);
    }
    seen.set(name, r.type);
    if (r.targets.length === 0) throw new CorefileValueError('record name', name, 'has no targets');
    let targets: string[];
    if (r.type === 'CNAME') {
      if (r.targets.length !== 1) throw new CorefileValueError('CNAME', name, 'must have exactly one target');
      if (name === zone) throw new CorefileValueError('CNAME', name, 'cannot be at the zone apex');
      targets = [checkRecordName(r.targets[0]!, `CNAME target of ${name}`)];
    } else {
      const family = r.type === 'A' ? 4 : 6;
      targets = [...new Set(r.targets.map((t) => checkIp(t, `${r.type} target of ${name}`)))].sort(byString);
      for (const t of targets) {
        if (isIP(t) !== family)
          throw new CorefileValueError(`${r.type} target of ${name}`, t, `is not an IPv${family} address`);
      }
    }
    return { name, type: r.type, targets, ttl: r.ttl };
  });
  records.sort((a, b) => byString(a.name, b.name) || byString(a.type, b.type));
  return nameServer === undefined ? { zone, records } : { zone, nameServer, records };
}

const INDENT = '    ';
const regexFor = (name: string): string => `^${name.replaceAll('.', '\\.')}\\.$`;

/** Renders the server block serving one RecordZone (input must come from validateRecordZone; bind already checked). */
export function renderRecordZoneBlock(z: RecordZone, port: number, bind: readonly string[] = []): string {
  const zone = z.zone;
  const ns = `${z.nameServer ?? `ns.${zone}`}.`;
  const soa = `"${zone}. ${NEGATIVE_TTL} IN SOA ${ns} hostmaster.${zone}. 1 7200 1800 86400 ${NEGATIVE_TTL}"`;
  const lines: string[] = [`${zone}:${port} {`];
  if (bind.length > 0) lines.push(`${INDENT}bind ${bind.join(' ')}`);
  // No `cache`: templates answer from memory, and cache would cap every TTL at its own maximum.
  lines.push(`${INDENT}errors`);
  const template = (qclass: string, qtype: string, body: string[]) => {
    lines.push(`${INDENT}template ${qclass} ${qtype} ${zone} {`);
    for (const b of body) lines.push(`${INDENT}${INDENT}${b}`);
    lines.push(`${INDENT}}`);
  };

  template('IN', 'SOA', [`match ${regexFor(zone)}`, `answer ${soa}`, 'fallthrough']);
  if (z.nameServer) {
    template('IN', 'NS', [
      `match ${regexFor(zone)}`,
      `answer "${zone}. ${NEGATIVE_TTL} IN NS ${ns}"`,
      'fallthrough',
    ]);
  }
  for (const r of z.records) {
    const answers = r.targets.map(
      (t) => `answer "${r.name}. ${r.ttl} IN ${r.type} ${r.type === 'CNAME' ? `${t}.` : t}"`,
    );
    // A CNAME answers every query type for its name; A/AAAA only their own.
    template(r.type === 'CNAME' ? 'ANY' : 'IN', r.type === 'CNAME' ? 'ANY' : r.type, [
      `match ${regexFor(r.name)}`,
      ...answers,
      'fallthrough',
    ]);
  }
  const existing = new Set<string>([zone]);
  for (const r of z.records) {
    // Every name between a record and the apex exists too (an empty non-terminal): NODATA, not NXDOMAIN.
    for (let n = r.name; n !== zone; n = n.slice(n.indexOf('.') + 1)) existing.add(n);
  }
  template('ANY', 'ANY', [
    ...[...existing].sort(byString).map((n) => `match ${regexFor(n)}`),
    `authority ${soa}`,
    'fallthrough',
  ]);
  template('ANY', 'ANY', ['rcode NXDOMAIN', `authority ${soa}`]);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// From Domains and DNSEndpoints to RecordZones

export interface FederationZonesResult {
  zones: RecordZone[];
  skipped: SkippedRecord[];
}

interface Candidate {
  name: string;
  type: 'A' | 'CNAME';
  targets: string[];
  ttl: number;
  source?: string;
}

/**
 * The zones fedctl serves for the federation: one per distinct Domain, holding every DNSEndpoint
 * record whose name lies in it (the most specific zone when Domains nest). Records with the same name
 * from several DNSEndpoints merge as KubeFed merged them within one: A beats CNAME, targets unite,
 * the smallest TTL wins. Anything that cannot be served is listed in `skipped` with a reason.
 */
export function federationZones(
  domains: readonly Pick<Domain, 'domain' | 'nameServer'>[],
  dnsEndpoints: readonly Pick<DNSEndpoint, 'metadata' | 'spec'>[],
): FederationZonesResult {
  const skipped: SkippedRecord[] = [];
  const zoneNs = new Map<string, string | undefined>();
  for (const d of domains) {
    try {
      const zone = checkZone(normaliseName(d.domain ?? ''), 'domain');
      const ns = d.nameServer ? normaliseName(d.nameServer) : undefined;
      if (ns !== undefined) checkRecordName(ns, 'name server');
      if (!zoneNs.has(zone) || (zoneNs.get(zone) === undefined && ns)) zoneNs.set(zone, ns);
    } catch (e) {
      skipped.push({ name: d.domain ?? '', reason: `Domain is not servable: ${(e as Error).message}` });
    }
  }
  const zones = [...zoneNs.keys()].sort((a, b) => b.length - a.length || byString(a, b));
  const zoneOf = (name: string) => zones.find((z) => isInZone(name, z));

  const merged = new Map<string, Candidate>();
  for (const obj of dnsEndpoints) {
    const source = objectKey(obj);
    for (const e of obj.spec?.endpoints ?? []) {
      const c = candidateOf(e, source, zoneOf, skipped);
      if (!c) continue;
      const seen = merged.get(c.name);
      if (!seen) merged.set(c.name, c);
      else if (seen.type !== c.type) {
        if (seen.type === 'CNAME') merged.set(c.name, c);
      } else {
        merged.set(c.name, {
          ...seen,
          targets: [...new Set([...seen.targets, ...c.targets])].sort(byString),
          ttl: Math.min(seen.ttl, c.ttl),
        });
      }
    }
  }

  for (const c of merged.values()) {
    if (c.type === 'CNAME' && c.targets.length > 1) {
      skipped.push({
        name: c.name,
        source: c.source,
        reason: `CNAME has several targets: ${c.targets.join(', ')}`,
      });
      merged.delete(c.name);
    }
  }
  for (const name of cnameLoops(merged)) {
    skipped.push({ name, source: merged.get(name)?.source, reason: 'CNAME chain loops back to itself' });
    merged.delete(name);
  }

  const byZone = new Map<string, ZoneRecord[]>(zones.map((z) => [z, []]));
  for (const c of [...merged.values()].sort((a, b) => byString(a.name, b.name))) {
    const list = byZone.get(zoneOf(c.name)!)!;
    if (c.type === 'CNAME') {
      list.push({ name: c.name, type: 'CNAME', targets: c.targets, ttl: c.ttl });
      continue;
    }
    const v4 = c.targets.filter((t) => isIP(t) === 4);
    const v6 = c.targets.filter((t) => isIP(t) === 6);
    // KubeFed resolved load balancer host names with LookupHost, so IPv6 addresses can appear in "A"
    // records; they are served as AAAA.
    if (v4.length > 0) list.push({ name: c.name, type: 'A', targets: v4, ttl: c.ttl });
    if (v6.length > 0) list.push({ name: c.name, type: 'AAAA', targets: v6, ttl: c.ttl });
  }
  const out = [...byZone.entries()]
    .sort(([a], [b]) => byString(a, b))
    .map(([zone, records]) => {
      const ns = zoneNs.get(zone);
      return ns === undefined ? { zone, records } : { zone, nameServer: ns, records };
    });
  skipped.sort((a, b) => byString(a.name, b.name) || byString(a.reason, b.reason));
  return { zones: out, skipped };
}

function candidateOf(
  e: Endpoint,
  source: string,
  zoneOf: (name: string) => string | undefined,
  skipped: SkippedRecord[],
): Candidate | undefined {
  const raw = typeof e.dnsName === 'string' ? e.dnsName : '';
  const skip = (reason: string) => {
    skipped.push({ name: raw, source, reason });
    return undefined;
  };
  const name = normaliseName(raw);
  if (name.startsWith('*.')) return skip('wildcard names are not served');
  try {
    checkRecordName(name);
  } catch (err) {
    return skip((err as Error).message);
  }
  const zone = zoneOf(name);
  if (!zone) return skip('the name is outside every Domain zone');
  const ttl = e.recordTTL === undefined || e.recordTTL === 0 ? DEFAULT_RECORD_TTL : e.recordTTL;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL)
    return skip(`TTL ${ttl} is not an integer from 0 to ${MAX_TTL}`);
  const targets = (e.targets ?? []).filter((t) => t !== '');
  if (targets.length === 0) return skip('the record has no targets');
  if (e.recordType === 'A') {
    const bad = targets.find((t) => isIP(t) === 0 || t.includes('%'));
    if (bad !== undefined) return skip(`A target ${JSON.stringify(bad)} is not an IP address`);
    return { name, type: 'A', targets: [...new Set(targets)].sort(byString), ttl, source };
  }
  if (e.recordType === 'CNAME') {
    if (name === zone) return skip('a CNAME cannot be at the zone apex');
    const norm = [...new Set(targets.map(normaliseName))].sort(byString);
    for (const t of norm) {
      try {
        checkRecordName(t, 'CNAME target');
      } catch (err) {
        return skip((err as Error).message);
      }
    }
    return { name, type: 'CNAME', targets: norm, ttl, source };
  }
  return skip(`record type ${JSON.stringify(e.recordType)} is not served (only A and CNAME)`);
}

/** Names whose CNAME chain (through the merged records) comes back to a name already on it. */
function cnameLoops(records: ReadonlyMap<string, Candidate>): string[] {
  const inLoop = new Set<string>();
  for (const start of records.keys()) {
    const path: string[] = [];
    const onPath = new Set<string>();
    let n: string | undefined = start;
    while (n !== undefined) {
      const r = records.get(n);
      if (r?.type !== 'CNAME') break;
      if (onPath.has(n)) {
        for (const m of path.slice(path.indexOf(n))) inLoop.add(m);
        break;
      }
      onPath.add(n);
      path.push(n);
      n = r.targets[0];
    }
  }
  return [...inLoop].sort(byString);
}
