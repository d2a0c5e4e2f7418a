import { describe, expect, it } from 'vitest';
import {
  blockDirectives,
  CorefileParseError,
  currentSection,
  type ForwardZone,
  findSection,
  mainServer,
  parseServerBlocks,
  parseServerKey,
  renderSection,
  SECTION_BEGIN,
  SECTION_END,
  sectionProblems,
  spliceSection,
  tokenize,
  zoneConflicts,
} from './corefile.ts';
import { CorefileValueError } from './validate.ts';

// The stock kubeadm Corefile, as in the coredns ConfigMap.
const KUBEADM = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

// A testbed-style Corefile on a high port, without trailing newline, with CRLF line ends inside.
const TESTBED =
  '.:40123 {\r\n    errors\r\n    kubernetes cluster.local {\r\n        kubeconfig /tmp/kc\r\n    }\r\n}';

// The testbed's own shape (testbed/corefile.ts): loopback only.
const TESTBED_BIND = `.:40123 {
    bind 127.0.0.1
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig /tmp/kc ctx
        pods insecure
    }
    reload 2s
}
`;

const K3S = `.:53 {
    errors
    health
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    hosts /etc/coredns/NodeHosts {
      ttl 60
      reload 15s
      fallthrough
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
    import /etc/coredns/custom/*.override
}
import /etc/coredns/custom/*.server
`;

const fz = (zone: string, ...upstreams: string[]): ForwardZone => ({ zone, upstreams });

describe('renderSection', () => {
  it('renders one block per zone with errors, cache 30 and forward, between the markers', () => {
    expect(renderSection([fz('tidb-b.svc.cluster.local', '10.2.0.10')], 53)).toBe(
      `${SECTION_BEGIN}
tidb-b.svc.cluster.local:53 {
    errors
    cache 30
    forward . 10.2.0.10
}
${SECTION_END}
`,
    );
  });

  it('adds force_tcp in a forward block when asked', () => {
    const s = renderSection([{ zone: 'b.local', upstreams: ['10.2.0.10:5353'], forceTcp: true }], 40123);
    expect(s).toContain(
      'b.local:40123 {\n    errors\n    cache 30\n    forward . 10.2.0.10:5353 {\n        force_tcp\n    }\n}\n',
    );
  });

  it('sorts blocks by zone and upstreams, drops duplicate upstreams and trailing dots, so input order does not matter', () => {
    const a = renderSection(
      [fz('b.local.', '10.0.0.2', '10.0.0.1', '10.0.0.2'), fz('a.local', '[fd00::1]:53', '10.9.0.1')],
      53,
    );
    const b = renderSection(
      [fz('a.local', '10.9.0.1', '[fd00::1]:53'), fz('b.local', '10.0.0.1', '10.0.0.2')],
      53,
    );
    expect(a).toBe(b);
    expect(a.indexOf('a.local:53')).toBeLessThan(a.indexOf('b.local:53'));
    expect(a).toContain('forward . 10.0.0.1 10.0.0.2\n');
    expect(a).toContain('forward . 10.9.0.1 [fd00::1]:53\n');
  });

  it('repeats the main server bind addresses in every block', () => {
    const s = renderSection([fz('b.local', '10.0.0.1')], 40123, { bind: ['127.0.0.1', 'lo', '127.0.0.1'] });
    expect(s).toContain('b.local:40123 {\n    bind 127.0.0.1 lo\n    errors\n');
  });

  it('refuses a hostile bind address', () => {
    expect(() => renderSection([fz('b.local', '10.0.0.1')], 53, { bind: ['127.0.0.1 {'] })).toThrow(
      /bind address/,
    );
    expect(() => renderSection([fz('b.local', '10.0.0.1')], 53, { bind: ['999.1.1.1'] })).toThrow(
      /bind address/,
    );
  });

  it('renders nothing when there are no blocks', () => {
    expect(renderSection([], 53)).toBe('');
  });

  const hostile: { name: string; zones: ForwardZone[]; port?: number; offending: string }[] = [
    { name: 'a zone that opens a block', zones: [fz('evil.com { }', '10.0.0.1')], offending: 'evil.com { }' },
    { name: 'a zone with a newline', zones: [fz('a\nb', '10.0.0.1')], offending: 'a\nb' },
    { name: 'a zone that is a comment', zones: [fz('# x', '10.0.0.1')], offending: '# x' },
    { name: 'a zone with a quote', zones: [fz('a"b.com', '10.0.0.1')], offending: 'a"b.com' },
    { name: 'a zone with an apostrophe', zones: [fz("a'b.com", '10.0.0.1')], offending: "a'b.com" },
    { name: 'a zone with a closing brace', zones: [fz('a}.com', '10.0.0.1')], offending: 'a}.com' },
    { name: 'an uppercase zone', zones: [fz('Example.com', '10.0.0.1')], offending: 'Example.com' },
    { name: 'the root zone', zones: [fz('.', '10.0.0.1')], offending: '.' },
    { name: 'a zone with an empty label', zones: [fz('a..com', '10.0.0.1')], offending: 'a..com' },
    { name: 'a zone with an underscore', zones: [fz('a_b.com', '10.0.0.1')], offending: 'a_b.com' },
    { name: 'a label ending in a hyphen', zones: [fz('a-.com', '10.0.0.1')], offending: 'a-.com' },
    {
      name: 'a label longer than 63',
      zones: [fz(`${'a'.repeat(64)}.com`, '10.0.0.1')],
      offending: `${'a'.repeat(64)}.com`,
    },
    { name: 'an upstream that is a host name', zones: [fz('a.com', 'dns.google')], offending: 'dns.google' },
    { name: 'an upstream with a brace', zones: [fz('a.com', '10.0.0.1 {')], offending: '10.0.0.1 {' },
    { name: 'an upstream with a comment', zones: [fz('a.com', '10.0.0.1#x')], offending: '10.0.0.1#x' },
    { name: 'an upstream with port 0', zones: [fz('a.com', '10.0.0.1:0')], offending: '10.0.0.1:0' },
    {
      name: 'an upstream with port 65536',
      zones: [fz('a.com', '10.0.0.1:65536')],
      offending: '10.0.0.1:65536',
    },
    {
      name: 'an unbracketed IPv6 upstream with a port',
      zones: [fz('a.com', 'fd00::1:53:x')],
      offending: 'fd00::1:53:x',
    },
    {
      name: 'a file path as upstream',
      zones: [fz('a.com', '/etc/resolv.conf')],
      offending: '/etc/resolv.conf',
    },
    { name: 'a zone without upstreams', zones: [fz('a.com')], offending: 'a.com' },
    { name: 'port 0', zones: [fz('a.com', '10.0.0.1')], port: 0, offending: '0' },
    { name: 'port 70000', zones: [fz('a.com', '10.0.0.1')], port: 70000, offending: '70000' },
    {
      name: 'a zone listed twice',
      zones: [fz('a.com', '10.0.0.1'), fz('a.com.', '10.0.0.2')],
      offending: 'a.com',
    },
  ];
  for (const h of hostile) {
    it(`refuses ${h.name}, naming the value`, () => {
      let err: unknown;
      try {
        renderSection(h.zones, h.port ?? 53);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CorefileValueError);
      expect((err as CorefileValueError).value).toBe(h.offending);
      expect((err as Error).message).toContain(JSON.stringify(h.offending));
    });
  }
});

describe('spliceSection', () => {
  const s1 = renderSection([fz('b.local', '10.2.0.10')], 53);
  const s2 = renderSection([fz('b.local', '10.2.0.10'), fz('c.local', '10.3.0.10')], 53);
  const originals: [string, string][] = [
    ['the kubeadm Corefile', KUBEADM],
    ['a Corefile without trailing newline and with CRLF lines', TESTBED],
    ['the k3s Corefile with a top-level import', K3S],
    ['an empty Corefile', ''],
    ['a Corefile ending in a comment without newline', `${KUBEADM}# the end`],
    ['a Corefile ending in blank lines', `${KUBEADM}\n\n`],
  ];

  for (const [name, original] of originals) {
    it(`keeps ${name} byte for byte outside the section and gets it back when the section is removed`, () => {
      const with1 = spliceSection(original, s1);
      expect(with1.length).toBe(original.length + s1.length);
      expect(with1.replace(s1, '')).toBe(original);
      expect(currentSection(with1)).toBe(s1);
      expect(spliceSection(with1, '')).toBe(original);
      const with2 = spliceSection(with1, s2);
      expect(with2.replace(s2, '')).toBe(original);
      expect(spliceSection(with2, '')).toBe(original);
    });

    it(`is idempotent on ${name}`, () => {
      const once = spliceSection(original, s2);
      expect(spliceSection(once, s2)).toBe(once);
      expect(spliceSection(spliceSection(once, s1), s2)).toBe(once);
    });
  }

  it('appends after a Corefile that ends with a newline and prepends before one that does not', () => {
    expect(spliceSection(KUBEADM, s1)).toBe(KUBEADM + s1);
    expect(spliceSection(TESTBED, s1)).toBe(s1 + TESTBED);
  });

  it('replaces the section where it is, even when someone moved it to the middle', () => {
    const moved = `${s1}${KUBEADM}`;
    expect(spliceSection(moved, s2)).toBe(`${s2}${KUBEADM}`);
  });

  it('leaves a Corefile without section untouched when asked to remove it', () => {
    expect(spliceSection(KUBEADM, '')).toBe(KUBEADM);
  });

  it('accepts a section without its final newline and stores it with one', () => {
    expect(spliceSection(KUBEADM, s1.slice(0, -1))).toBe(KUBEADM + s1);
  });

  it('refuses text that is not a fedctl section', () => {
    expect(() => spliceSection(KUBEADM, 'b.local:53 {\n}\n')).toThrow(CorefileParseError);
    expect(() => spliceSection(KUBEADM, `${SECTION_BEGIN}\n${SECTION_BEGIN}\n${SECTION_END}\n`)).toThrow(
      /further fedctl markers/,
    );
  });

  it('refuses to edit a Corefile whose markers are broken', () => {
    expect(() => spliceSection(`${KUBEADM}${SECTION_BEGIN}\n`, s1)).toThrow(/without/);
    expect(() => spliceSection(`${KUBEADM}${SECTION_END}\n`, s1)).toThrow(/without/);
    expect(() => spliceSection(`${s1}${s1}`, s1)).toThrow(/second fedctl section/);
    expect(() => spliceSection(`${SECTION_BEGIN}\n${SECTION_BEGIN}\n${SECTION_END}\n`, s1)).toThrow(/second/);
  });
});

describe('tokenize', () => {
  it('splits on whitespace, groups quotes, drops comments and keeps offsets', () => {
    const src = 'a "b c" d#e\n"x\\"y" z\\w "p\\q"';
    expect(tokenize(src).map((t) => [t.text, t.quoted, t.line])).toEqual([
      ['a', false, 1],
      ['b c', true, 1],
      ['d', false, 1],
      ['x"y', true, 2],
      ['z\\w', false, 2],
      ['p\\q', true, 2],
    ]);
    const t = tokenize(src)[1]!;
    expect(src.slice(t.start, t.end)).toBe('"b c"');
  });
  it('keeps a quote in the middle of a token as a character', () => {
    expect(tokenize('a"b c').map((t) => t.text)).toEqual(['a"b', 'c']);
  });
  it('refuses an unterminated quote', () => {
    expect(() => tokenize('a "b')).toThrow(/unterminated/);
  });
});

describe('parseServerKey', () => {
  const cases: [string, object][] = [
    ['.:53', { scheme: 'dns', zone: '.', port: 53 }],
    ['.', { scheme: 'dns', zone: '.' }],
    ['Example.ORG.', { scheme: 'dns', zone: 'example.org' }],
    ['dns://example.org:1053', { scheme: 'dns', zone: 'example.org', port: 1053 }],
    ['tls://.:853', { scheme: 'tls', zone: '.', port: 853 }],
    ['10.0.0.0/24:53', { scheme: 'dns', zone: '10.0.0.0/24', port: 53 }],
    ['2001:db8::/32', { scheme: 'dns', zone: '2001:db8::/32' }],
  ];
  for (const [raw, want] of cases) {
    it(`reads ${raw}`, () => {
      expect(parseServerKey(raw)).toEqual({ raw, ...want });
    });
  }
});

describe('parseServerBlocks', () => {
  it('finds the main block and its port in the kubeadm and testbed Corefiles', () => {
    const k = parseServerBlocks(KUBEADM);
    expect(k.blocks.map((b) => b.keys.map((x) => x.zone))).toEqual([['.']]);
    expect(mainServer(KUBEADM)).toEqual({ port: 53, line: 1 });
    expect(mainServer(TESTBED)).toEqual({ port: 40123, line: 1 });
    expect(mainServer(TESTBED_BIND)).toEqual({ port: 40123, bind: ['127.0.0.1'], line: 1 });
  });

  it('reads keys separated by spaces, commas and continued lines, and records top-level imports', () => {
    const src = `a.com b.com:1053, c.com,\n  d.com {\n  whoami\n}\n${K3S}`;
    const p = parseServerBlocks(src);
    expect(p.blocks[0]!.keys.map((k) => `${k.zone}:${k.port ?? ''}`)).toEqual([
      'a.com:',
      'b.com:1053',
      'c.com:',
      'd.com:',
    ]);
    expect(p.imports).toEqual(['/etc/coredns/custom/*.server']);
    expect(p.blocks).toHaveLength(2);
  });

  it('skips snippets and takes the body offsets between the braces', () => {
    const src = '(common) {\n  errors\n}\nx.org:53 {\n  import common\n  whoami\n}\n';
    const p = parseServerBlocks(src);
    expect(p.snippets).toEqual(['common']);
    expect(p.blocks).toHaveLength(1);
    const b = p.blocks[0]!;
    expect(src.slice(b.start, b.end)).toBe('x.org:53 {\n  import common\n  whoami\n}');
    expect(src.slice(b.bodyStart, b.bodyEnd)).toBe('\n  import common\n  whoami\n');
  });

  it('marks the blocks inside fedctl section as ours', () => {
    const src = spliceSection(KUBEADM, renderSection([fz('b.local', '10.0.0.1')], 53));
    const p = parseServerBlocks(src);
    expect(p.blocks.map((b) => [b.keys[0]!.zone, b.ours])).toEqual([
      ['.', false],
      ['b.local', true],
    ]);
    expect(p.section).toBeDefined();
  });

  it('ignores a main block on another transport when looking for the port', () => {
    expect(mainServer('tls://.:853 {\n}\n.:5300 {\n}\n')?.port).toBe(5300);
    expect(mainServer('example.org {\n}\n')).toBeUndefined();
  });

  const broken: [string, string, RegExp][] = [
    ['an unclosed block', '.:53 {\n errors\n', /never closed/],
    ['a stray closing brace', '.:53 {\n}\n}\n', /without a matching/],
    ['a server block without braces', '.:53\nwhoami\n', /no "\{ \.\.\. \}" body/],
    ['a brace without keys', '{\n}\n', /without server block keys/],
    [
      'fedctl markers inside a foreign block',
      `.:53 {\n${SECTION_BEGIN}\n${SECTION_END}\n}\n`,
      /inside the server block/,
    ],
  ];
  for (const [name, src, re] of broken) {
    it(`refuses ${name}`, () => {
      expect(() => parseServerBlocks(src)).toThrow(re);
    });
  }
});

describe('zoneConflicts and sectionProblems', () => {
  const withOurs = (base: string, zones: ForwardZone[], port: number) =>
    spliceSection(base, renderSection(zones, port));

  it('finds nothing wrong with forward blocks on the main port', () => {
    expect(sectionProblems(withOurs(KUBEADM, [fz('b.local', '10.0.0.1')], 53))).toEqual([]);
    expect(sectionProblems(withOurs(TESTBED, [fz('b.local', '10.0.0.1')], 40123))).toEqual([]);
  });

  it('refuses a zone already served outside the section on the same port', () => {
    const base = `${KUBEADM}example.org:53 {\n    whoami\n}\n`;
    const c = withOurs(base, [fz('example.org', '10.0.0.1')], 53);
    expect(zoneConflicts(parseServerBlocks(c))).toEqual([
      { zone: 'example.org', port: 53, oursLine: 25, theirsLine: 21 },
    ]);
    expect(sectionProblems(c)).toEqual([
      'zone example.org on port 53 is already served by the block at line 21; fedctl will not serve it too',
    ]);
  });

  it('counts a key without port as port 53 when comparing zones', () => {
    const base = `${KUBEADM}example.org {\n}\n`;
    expect(
      zoneConflicts(parseServerBlocks(withOurs(base, [fz('example.org.', '10.0.0.1')], 53))),
    ).toHaveLength(1);
  });

  it('allows the same zone on another port (it is another server)', () => {
    const base = `${KUBEADM}example.org:5353 {\n}\n`;
    expect(zoneConflicts(parseServerBlocks(withOurs(base, [fz('example.org', '10.0.0.1')], 53)))).toEqual([]);
  });

  it('refuses blocks that do not bind where the main server binds', () => {
    expect(sectionProblems(withOurs(TESTBED_BIND, [fz('b.local', '10.0.0.1')], 40123))).toEqual([
      "fedctl's block at line 11 binds all addresses, the main server 127.0.0.1",
    ]);
    const ok = spliceSection(
      TESTBED_BIND,
      renderSection([fz('b.local', '10.0.0.1')], 40123, { bind: ['127.0.0.1'] }),
    );
    expect(sectionProblems(ok)).toEqual([]);
    const extra = spliceSection(
      KUBEADM,
      renderSection([fz('b.local', '10.0.0.1')], 53, { bind: ['127.0.0.1'] }),
    );
    expect(sectionProblems(extra)).toEqual([
      "fedctl's block at line 22 binds 127.0.0.1, the main server all addresses",
    ]);
  });

  it('refuses blocks on a different port than the main server', () => {
    expect(sectionProblems(withOurs(TESTBED, [fz('b.local', '10.0.0.1')], 53))).toEqual([
      "fedctl's block for zone b.local listens on port 53, the main server on 40123",
    ]);
  });

  it('refuses to add blocks to a Corefile without a main server', () => {
    expect(sectionProblems(withOurs('example.org {\n}\n', [fz('b.local', '10.0.0.1')], 53))[0]).toMatch(
      /no "\." server block/,
    );
  });

  it('reports broken markers as a problem instead of throwing', () => {
    expect(sectionProblems(`${KUBEADM}${SECTION_BEGIN}\n`)).toEqual([
      expect.stringMatching(/line 21: "# fedctl:begin" marker without "# fedctl:end"/),
    ]);
  });

  it('finds no problem when there is no section at all', () => {
    expect(sectionProblems('example.org {\n}\n')).toEqual([]);
  });
});

describe('blockDirectives', () => {
  it('lists top-level directives with arguments and absolute lines, skipping sub-block contents', () => {
    const b = parseServerBlocks(KUBEADM).blocks[0]!;
    const ds = blockDirectives(KUBEADM, b);
    expect(ds.map((d) => d.name)).toEqual([
      'errors',
      'health',
      'ready',
      'kubernetes',
      'prometheus',
      'forward',
      'cache',
      'loop',
      'reload',
      'loadbalance',
    ]);
    expect(ds[3]).toEqual({
      name: 'kubernetes',
      args: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'],
      line: 7,
      hasBlock: true,
    });
  });
});

describe('findSection', () => {
  it('spans from the begin marker line to just past the end marker line', () => {
    const s = renderSection([fz('b.local', '10.0.0.1')], 53);
    const src = `${KUBEADM}${s}`;
    const span = findSection(src)!;
    expect(src.slice(span.start, span.end)).toBe(s);
    expect(span.line).toBe(21);
  });
});
