import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { decodeName, decodeResponse, dnsQuery, encodeName, encodeQuery, parseServer } from './dns-query.ts';

/** Builds an answer to `query` with one A record (name compressed as a pointer to the question). */
function answer(query: Buffer, ip: string): Buffer {
  const header = Buffer.from(query.subarray(0, 12));
  header.writeUInt16BE(0x8580, 2); // response, authoritative, RD, RA
  header.writeUInt16BE(1, 6);
  const rr = Buffer.alloc(16);
  rr.writeUInt16BE(0xc00c, 0);
  rr.writeUInt16BE(1, 2);
  rr.writeUInt16BE(1, 4);
  rr.writeUInt32BE(30, 6);
  rr.writeUInt16BE(4, 10);
  ip.split('.').forEach((o, i) => {
    rr[12 + i] = Number(o);
  });
  return Buffer.concat([header, query.subarray(12), rr]);
}

describe('DNS wire format', () => {
  it('encodes names as length-prefixed labels', () => {
    expect(encodeName('a.bc.')).toEqual(Buffer.from([1, 97, 2, 98, 99, 0]));
    expect(encodeName('.')).toEqual(Buffer.from([0]));
    expect(() => encodeName('a..b')).toThrow(/invalid DNS label/);
  });

  it('decodes compressed names', () => {
    const q = encodeQuery(7, 'kubernetes.default.svc.cluster.local', 'A');
    expect(decodeName(q, 12).name).toBe('kubernetes.default.svc.cluster.local.');
    const r = decodeResponse(answer(q, '10.200.0.1'));
    expect(r).toMatchObject({ id: 7, rcodeName: 'NOERROR', authoritative: true });
    expect(r.answers).toEqual([
      { name: 'kubernetes.default.svc.cluster.local.', type: 'A', ttl: 30, data: '10.200.0.1' },
    ]);
  });

  it('parses server addresses', () => {
    expect(parseServer('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(parseServer('127.0.0.1')).toEqual({ host: '127.0.0.1', port: 53 });
    expect(() => parseServer('127.0.0.1:x')).toThrow(/bad DNS server/);
  });
});

describe('dnsQuery', () => {
  it('asks a UDP server on loopback and decodes its answer', async () => {
    const srv = createSocket('udp4');
    srv.on('message', (msg, rinfo) => srv.send(answer(msg, '10.200.0.1'), rinfo.port, rinfo.address));
    await new Promise<void>((r) => srv.bind(0, '127.0.0.1', r));
    try {
      const r = await dnsQuery(`127.0.0.1:${srv.address().port}`, 'kubernetes.default.svc.cluster.local');
      expect(r.answers.map((a) => a.data)).toEqual(['10.200.0.1']);
    } finally {
      srv.close();
    }
  });

  it('refuses private server addresses from the root namespace', async () => {
    await expect(dnsQuery('10.0.0.10:53', 'x.local')).rejects.toThrow(/refusing/);
  });

  it('times out with the server named', async () => {
    const srv = createSocket('udp4');
    await new Promise<void>((r) => srv.bind(0, '127.0.0.1', r));
    try {
      await expect(
        dnsQuery(`127.0.0.1:${srv.address().port}`, 'x.local', 'A', { timeoutMs: 100, retries: 0 }),
      ).rejects.toThrow(/no DNS answer from 127\.0\.0\.1/);
    } finally {
      srv.close();
    }
  });
});
