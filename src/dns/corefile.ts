// fedctl's edits to a CoreDNS Corefile, as pure string functions.
//
// fedctl owns exactly one section, delimited by the marker lines SECTION_BEGIN and SECTION_END, and
// never touches a byte outside it: the cluster's own configuration (and whatever its distribution
// or operator keeps rewriting) stays as it was. Splicing is reversible: a section is appended when
// the Corefile ends with a newline and prepended otherwise, so removing it (splicing an empty
// section) gives back the original bytes exactly.
//
// The parser is a small re-implementation of the Caddyfile lexer rules CoreDNS uses (tokens split on
// whitespace, double quotes group, `#` starts a comment anywhere outside quotes, `{`/`}` tokens nest),
// enough to find server blocks, their zones and ports, and fedctl's section. It does not expand
// `import` or snippets; blocks brought in by a top-level import are invisible here (the writer
// passes such files' contents explicitly when it matters).

import { type RecordZone, renderRecordZoneBlock, validateRecordZone } from './federation-zone.ts';
import {
  CorefileValueError,
  checkIp,
  checkPort,
  checkZone,
  formatUpstream,
  parseUpstream,
} from './validate.ts';

export const SECTION_BEGIN = '# fedctl:begin - managed by fedctl, do not edit';
export const SECTION_END = '# fedctl:end';
const BEGIN_PREFIX = '# fedctl:begin';

/** CoreDNS's port for server blocks that name none. */
export const DEFAULT_DNS_PORT = 53;

/** A zone fedctl forwards to other DNS servers (another cluster's CoreDNS). */
export interface ForwardZone {
  zone: string;
  /** `ip`, `ipv4:port` or `[ipv6]:port`. */
  upstreams: string[];
  /** Forward over TCP only (`force_tcp`), e.g. when UDP between the clusters is filtered. */
  forceTcp?: boolean;
}

/** The Corefile cannot be edited safely (unbalanced braces, broken fedctl markers, ...). */
export class CorefileParseError extends Error {
  readonly line: number | undefined;
  constructor(message: string, line?: number) {
    super(line === undefined ? message : `Corefile line ${line}: ${message}`);
    this.name = 'CorefileParseError';
    this.line = line;
  }
}

// ---------------------------------------------------------------------------------------------
// Lexer

export interface Token {
  text: string;
  quoted: boolean;
  /** 1-based line of the token's first character. */
  line: number;
  /** Offsets in the source: [start, end). */
  start: number;
  end: number;
}

/** Splits a Corefile into tokens following the Caddyfile lexer CoreDNS uses. */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === '\n') {
      line++;
      i++;
      continue;
    }
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const start = i;
    const startLine = line;
    if (ch === '"') {
      let text = '';
      let escaped = false;
      let closed = false;
      i++;
      // Inside quotes a backslash only escapes a double quote; before anything else it is kept.
      while (i < src.length) {
        const c = src[i++]!;
        if (!escaped) {
          if (c === '\\') {
            escaped = true;
            continue;
          }
          if (c === '"') {
            closed = true;
            break;
          }
        }
        if (c === '\n') line++;
        if (escaped && c !== '"') text += '\\';
        text += c;
        escaped = false;
      }
      if (!closed) throw new CorefileParseError('unterminated quoted string', startLine);
      tokens.push({ text, quoted: true, line: startLine, start, end: i });
      continue;
    }
    // Unquoted: up to whitespace; a `#` ends the token and starts a comment, as in CoreDNS's lexer.
    while (i < src.length && !/\s/.test(src[i]!) && src[i] !== '#') i++;
    tokens.push({ text: src.slice(start, i), quoted: false, line: startLine, start, end: i });
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser

export interface ServerKey {
  /** The key as written, e.g. `dns://example.org:1053`. */
  raw: string;
  /** `dns`, `tls`, `grpc`, `https`, `quic`, `https3`, ... (`dns` when absent). */
  scheme: string;
  /** Lowercase zone without trailing dot; `.` for the root. */
  zone: string;
  /** Port as written; undefined when the key has none (CoreDNS then uses -dns.port, default 53). */
  port?: number;
}

export interface ServerBlock {
  keys: ServerKey[];
  /** Line of the first key and line of the closing brace. */
  line: number;
  endLine: number;
  /** Offsets: block text is [start, end); the body between the braces is [bodyStart, bodyEnd). */
  start: number;
  end: number;
  bodyStart: number;
  bodyEnd: number;
  /** True for blocks inside fedctl's section. */
  ours: boolean;
}

export interface SectionSpan {
  /** Offset of the begin marker line's first character. */
  start: number;
  /** Offset just past the end marker line (its newline included when present). */
  end: number;
  line: number;
  endLine: number;
}

export interface ParsedCorefile {
  blocks: ServerBlock[];
  section?: SectionSpan;
  /** Arguments of top-level `import` lines, e.g. `custom/*.server`. */
  imports: string[];
  /** Names of snippets defined with `(name) { ... }`. */
  snippets: string[];
}

const SCHEME = /^([a-z0-9]+):\/\//i;

/** Parses a server block key such as `.:53`, `example.org`, `dns://a.b:1053` or `10.0.0.0/24`. */
export function parseServerKey(raw: string): ServerKey {
  let rest = raw;
  let scheme = 'dns';
  const m = SCHEME.exec(rest);
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = rest.slice(m[0].length);
  }
  let port: number | undefined;
  const pm = /:(\d+)$/.exec(rest);
  // `[::1]:53`-style keys do not exist for zones, but IPv6 reverse zones like `2001:db8::/32` do:
  // only take a port when what precedes it is not itself part of an IPv6 prefix.
  if (pm && !rest.slice(0, pm.index).includes(':')) {
    port = Number(pm[1]);
    rest = rest.slice(0, pm.index);
  }
  let zone = rest.toLowerCase();
  if (zone.length > 1 && zone.endsWith('.')) zone = zone.slice(0, -1);
  if (zone === '') zone = '.';
  return port === undefined ? { raw, scheme, zone } : { raw, scheme, zone, port };
}

/** Finds fedctl's marker-delimited section. Throws when the markers are broken. */
export function findSection(src: string): SectionSpan | undefined {
  let begin: { start: number; line: number } | undefined;
  let span: SectionSpan | undefined;
  let offset = 0;
  let lineNo = 0;
  for (const rawLine of src.split('\n')) {
    lineNo++;
    const lineStart = offset;
    offset += rawLine.length + 1;
    const text = rawLine.trim();
    if (text.startsWith(BEGIN_PREFIX)) {
      if (begin)
        throw new CorefileParseError(`second "${BEGIN_PREFIX}" marker before "${SECTION_END}"`, lineNo);
      if (span)
        throw new CorefileParseError(
          `second fedctl section (the first ends at line ${span.endLine})`,
          lineNo,
        );
      begin = { start: lineStart, line: lineNo };
    } else if (text.startsWith(SECTION_END)) {
      if (!begin) throw new CorefileParseError(`"${SECTION_END}" marker without "${BEGIN_PREFIX}"`, lineNo);
      span = { start: begin.start, end: Math.min(offset, src.length), line: begin.line, endLine: lineNo };
      begin = undefined;
    }
  }
  if (begin) throw new CorefileParseError(`"${BEGIN_PREFIX}" marker without "${SECTION_END}"`, begin.line);
  return span;
}

function isLineStart(tokens: Token[], i: number): boolean {
  return i === 0 || tokens[i - 1]!.line !== tokens[i]!.line;
}

/** The index just past the `}` matching the `{` at index `open`. */
function matchBrace(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!.text;
    if (t === '{') depth++;
    else if (t === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw new CorefileParseError('"{" is never closed', tokens[open]!.line);
}

/**
 * Parses the server blocks of a Corefile (all of them, fedctl's included and marked `ours`).
 * Throws CorefileParseError when the file cannot be edited safely.
 */
export function parseServerBlocks(src: string): ParsedCorefile {
  const section = findSection(src);
  const tokens = tokenize(src);
  const blocks: ServerBlock[] = [];
  const imports: string[] = [];
  const snippets: string[] = [];
  let i = 0;
  while (i < tokens.length) {
    const first = tokens[i]!;
    if (first.text === '}') throw new CorefileParseError('"}" without a matching "{"', first.line);
    if (first.text === 'import' && isLineStart(tokens, i)) {
      i++;
      while (i < tokens.length && tokens[i]!.line === first.line) imports.push(tokens[i++]!.text);
      continue;
    }
    const keys: Token[] = [];
    let expectingAnother = false;
    while (i < tokens.length) {
      const t = tokens[i]!;
      if (t.text === '{') break;
      if (keys.length > 0 && !expectingAnother && t.line !== keys[keys.length - 1]!.line) break;
      expectingAnother = t.text.endsWith(',');
      const text = expectingAnother ? t.text.slice(0, -1) : t.text;
      if (text !== '') keys.push({ ...t, text });
      i++;
    }
    if (i >= tokens.length || tokens[i]!.text !== '{') {
      throw new CorefileParseError(
        `server block "${keys.map((k) => k.text).join(' ')}" has no "{ ... }" body; fedctl only edits Corefiles whose server blocks all use braces`,
        first.line,
      );
    }
    const open = i;
    const close = matchBrace(tokens, open);
    i = close;
    if (keys.length === 1 && /^\(.*\)$/.test(keys[0]!.text)) {
      snippets.push(keys[0]!.text.slice(1, -1));
      continue;
    }
    if (keys.length === 0)
      throw new CorefileParseError('"{" without server block keys before it', tokens[open]!.line);
    const start = keys[0]!.start;
    const end = tokens[close - 1]!.end;
    const ours = section !== undefined && start >= section.start && start < section.end;
    if (section && !ours && start < section.start && end > section.start) {
      throw new CorefileParseError(
        `fedctl's section (lines ${section.line}-${section.endLine}) lies inside the server block starting here`,
        keys[0]!.line,
      );
    }
    if (section && ours && end > section.end) {
      throw new CorefileParseError(
        `server block runs past the end of fedctl's section (line ${section.endLine})`,
        keys[0]!.line,
      );
    }
    blocks.push({
      keys: keys.map((k) => parseServerKey(k.text)),
      line: keys[0]!.line,
      endLine: tokens[close - 1]!.line,
      start,
      end,
      bodyStart: tokens[open]!.end,
      bodyEnd: tokens[close - 1]!.start,
      ours,
    });
  }
  return section ? { blocks, section, imports, snippets } : { blocks, imports, snippets };
}

export interface Directive {
  name: string;
  args: string[];
  line: number;
  /** True when the directive opens a sub-block (`name args {`). */
  hasBlock: boolean;
}

/** The top-level directives of a server block (a sub-block's contents are not listed). */
export function blockDirectives(src: string, block: ServerBlock): Directive[] {
  const tokens = tokenize(src.slice(block.bodyStart, block.bodyEnd));
  const lineOffset = lineAt(src, block.bodyStart) - 1;
  const out: Directive[] = [];
  let i = 0;
  while (i < tokens.length) {
    const first = tokens[i]!;
    const d: Directive = { name: first.text, args: [], line: first.line + lineOffset, hasBlock: false };
    i++;
    while (i < tokens.length && tokens[i]!.line === first.line && tokens[i]!.text !== '{')
      d.args.push(tokens[i++]!.text);
    if (i < tokens.length && tokens[i]!.text === '{' && tokens[i]!.line === first.line) {
      d.hasBlock = true;
      i = matchBrace(tokens, i);
    }
    out.push(d);
  }
  return out;
}

function lineAt(src: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (src.charCodeAt(i) === 10) line++;
  return line;
}

export interface MainServer {
  /** Port of the main block (53 when its key names none). */
  port: number;
  /** Arguments of the main block's `bind` directive, when it has one. */
  bind?: string[];
  /** Line of the main block's first key. */
  line: number;
}

/**
 * The main server: the first plain-DNS block serving the root zone `.` outside fedctl's section.
 * Blocks fedctl adds must listen where it listens (same port, same `bind`): CoreDNS groups server
 * blocks by listen address, and a block on another address would neither see the queries pods send
 * nor be able to bind next to it.
 */
export function mainServer(
  src: string,
  parsed = parseServerBlocks(src),
  defaultPort = DEFAULT_DNS_PORT,
): MainServer | undefined {
  for (const b of parsed.blocks) {
    if (b.ours) continue;
    const key = b.keys.find((k) => k.zone === '.' && k.scheme === 'dns');
    if (!key) continue;
    const bind = blockDirectives(src, b).find((d) => d.name === 'bind');
    const main: MainServer = { port: key.port ?? defaultPort, line: b.line };
    if (bind) main.bind = bind.args;
    return main;
  }
  return undefined;
}

export interface ZoneConflict {
  zone: string;
  port: number;
  /** Line of fedctl's block and of the other block serving the same zone and port. */
  oursLine: number;
  theirsLine: number;
}

/**
 * Zones fedctl's section serves on the same port as a block outside it (CoreDNS refuses to start
 * with "zone already defined"; a restarted pod would crash-loop).
 */
export function zoneConflicts(parsed: ParsedCorefile, defaultPort = DEFAULT_DNS_PORT): ZoneConflict[] {
  const theirs = new Map<string, number>();
  for (const b of parsed.blocks) {
    if (b.ours) continue;
    for (const k of b.keys) {
      const id = `${k.scheme}://${k.zone}:${k.port ?? defaultPort}`;
      if (!theirs.has(id)) theirs.set(id, b.line);
    }
  }
  const out: ZoneConflict[] = [];
  for (const b of parsed.blocks) {
    if (!b.ours) continue;
    for (const k of b.keys) {
      const port = k.port ?? defaultPort;
      const line = theirs.get(`${k.scheme}://${k.zone}:${port}`);
      if (line !== undefined) out.push({ zone: k.zone, port, oursLine: b.line, theirsLine: line });
    }
  }
  return out;
}

/**
 * Everything that makes a candidate Corefile (with fedctl's section spliced in) unsafe to write:
 * parse errors, a missing main server, fedctl blocks on another port than the main server, zones
 * already served outside the section. Empty when the candidate is fine as far as parsing can tell.
 */
export function sectionProblems(candidate: string, defaultPort = DEFAULT_DNS_PORT): string[] {
  let parsed: ParsedCorefile;
  try {
    parsed = parseServerBlocks(candidate);
  } catch (e) {
    return [(e as Error).message];
  }
  const problems: string[] = [];
  const ours = parsed.blocks.filter((b) => b.ours);
  if (ours.length === 0) return problems;
  const main = mainServer(candidate, parsed, defaultPort);
  if (main === undefined) {
    problems.push(
      'the Corefile has no "." server block outside fedctl\'s section, so fedctl cannot tell which port to use',
    );
  } else {
    const mainBind = [...(main.bind ?? [])].sort().join(' ');
    for (const b of ours) {
      for (const k of b.keys) {
        const port = k.port ?? defaultPort;
        if (port !== main.port) {
          problems.push(
            `fedctl's block for zone ${k.zone} listens on port ${port}, the main server on ${main.port}`,
          );
        }
      }
      const bind = [...(blockDirectives(candidate, b).find((d) => d.name === 'bind')?.args ?? [])]
        .sort()
        .join(' ');
      if (bind !== mainBind) {
        problems.push(
          `fedctl's block at line ${b.line} binds ${bind === '' ? 'all addresses' : bind}, the main server ${mainBind === '' ? 'all addresses' : mainBind}`,
        );
      }
    }
  }
  for (const c of zoneConflicts(parsed, defaultPort)) {
    problems.push(
      `zone ${c.zone} on port ${c.port} is already served by the block at line ${c.theirsLine}; fedctl will not serve it too`,
    );
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Rendering

const INDENT = '    ';

function normaliseForwardZone(z: ForwardZone): Required<ForwardZone> {
  const zone = checkZone(z.zone);
  if (!Array.isArray(z.upstreams) || z.upstreams.length === 0) {
    throw new CorefileValueError('zone', z.zone, 'has no upstream DNS servers to forward to');
  }
  const upstreams = [
    ...new Set(z.upstreams.map((u) => formatUpstream(parseUpstream(u, `upstream of zone ${zone}`)))),
  ].sort();
  return { zone, upstreams, forceTcp: z.forceTcp === true };
}

/**
 * Renders fedctl's section: one server block per forward zone and per federation record zone, all
 * on `port` (and `bind`), sorted by zone; '' when there is nothing to serve (splicing '' removes the section).
 * Throws CorefileValueError naming the offending value for anything that is not a clean zone, IP,
 * port or record.
 */
export interface SectionOptions {
  /** Federation zones served from records (see federation-zone.ts). */
  records?: readonly RecordZone[];
  /** The main server's `bind` arguments (see mainServer), repeated in every fedctl block. */
  bind?: readonly string[];
}

const INTERFACE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

function checkBind(value: string): string {
  if (typeof value === 'string' && INTERFACE.test(value) && !/^[0-9.]+$/.test(value)) return value;
  return checkIp(value, 'bind address');
}

export function renderSection(
  blocks: readonly ForwardZone[],
  port: number,
  options: SectionOptions = {},
): string {
  checkPort(port);
  const bind = [...new Set((options.bind ?? []).map(checkBind))];
  const forward = blocks.map(normaliseForwardZone);
  const recordZones = (options.records ?? []).map(validateRecordZone);
  const seen = new Set<string>();
  for (const z of [...forward.map((f) => f.zone), ...recordZones.map((r) => r.zone)]) {
    if (seen.has(z)) throw new CorefileValueError('zone', z, "appears twice in fedctl's section");
    seen.add(z);
  }
  if (seen.size === 0) return '';
  const rendered: { zone: string; text: string }[] = [
    ...forward.map((f) => ({ zone: f.zone, text: renderForwardBlock(f, port, bind) })),
    ...recordZones.map((r) => ({ zone: r.zone, text: renderRecordZoneBlock(r, port, bind) })),
  ];
  rendered.sort((a, b) => (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0));
  return `${SECTION_BEGIN}\n${rendered.map((r) => r.text).join('')}${SECTION_END}\n`;
}

function renderForwardBlock(f: Required<ForwardZone>, port: number, bind: readonly string[]): string {
  const forward = `forward . ${f.upstreams.join(' ')}`;
  const lines = [
    `${f.zone}:${port} {`,
    ...(bind.length > 0 ? [`${INDENT}bind ${bind.join(' ')}`] : []),
    `${INDENT}errors`,
    `${INDENT}cache 30`,
    ...(f.forceTcp
      ? [`${INDENT}${forward} {`, `${INDENT}${INDENT}force_tcp`, `${INDENT}}`]
      : [`${INDENT}${forward}`]),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Splicing

/**
 * Puts `section` (from renderSection) into `corefile` in place of fedctl's current section, or adds
 * it when there is none; an empty `section` removes fedctl's section. Bytes outside the section are
 * kept exactly, and `spliceSection(spliceSection(x, s), s) === spliceSection(x, s)`.
 * Throws CorefileParseError when the existing markers are broken.
 */
export function spliceSection(corefile: string, section: string): string {
  if (section !== '') {
    const lines = section.endsWith('\n') ? section.slice(0, -1).split('\n') : section.split('\n');
    if (lines[0] !== SECTION_BEGIN || lines[lines.length - 1] !== SECTION_END) {
      throw new CorefileParseError(
        `a fedctl section must start with "${SECTION_BEGIN}" and end with "${SECTION_END}"`,
      );
    }
    if (
      lines.slice(1, -1).some((l) => l.trim().startsWith(BEGIN_PREFIX) || l.trim().startsWith(SECTION_END))
    ) {
      throw new CorefileParseError('a fedctl section must not contain further fedctl markers');
    }
    if (!section.endsWith('\n')) section = `${section}\n`;
  }
  const span = findSection(corefile);
  if (span) return corefile.slice(0, span.start) + section + corefile.slice(span.end);
  if (section === '') return corefile;
  // Appending after a last line without newline would glue the marker onto that line; prepending
  // keeps the operation reversible without touching the original's last byte.
  if (corefile === '' || corefile.endsWith('\n')) return corefile + section;
  return section + corefile;
}

/** The text of fedctl's current section ('' when there is none). */
export function currentSection(corefile: string): string {
  const span = findSection(corefile);
  return span ? corefile.slice(span.start, span.end) : '';
}
