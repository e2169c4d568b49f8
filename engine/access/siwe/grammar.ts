// Character-level recognisers for the pieces of RFC 3986 (URI, authority) and RFC 3339
// (date-time) that EIP-4361 borrows. Hand-written and linear: each function walks its input
// once with lookup tables, so no input can make them backtrack (no regex over untrusted text
// beyond fixed-width fragments).

const ALPHA = 1;
const DIGIT = 2;
const UNRESERVED_MARK = 4; // - . _ ~
const SUB_DELIM = 8; // ! $ & ' ( ) * + , ; =
const GEN_DELIM = 16; // : / ? # [ ] @
const HEX = 32;

const table = new Uint8Array(128);
for (let c = 0x41; c <= 0x5a; c++) table[c] |= ALPHA;
for (let c = 0x61; c <= 0x7a; c++) table[c] |= ALPHA;
for (let c = 0x30; c <= 0x39; c++) table[c] |= DIGIT | HEX;
for (const ch of 'abcdefABCDEF') table[ch.charCodeAt(0)] |= HEX;
for (const ch of '-._~') table[ch.charCodeAt(0)] |= UNRESERVED_MARK;
for (const ch of "!$&'()*+,;=") table[ch.charCodeAt(0)] |= SUB_DELIM;
for (const ch of ':/?#[]@') table[ch.charCodeAt(0)] |= GEN_DELIM;

function has(code: number, mask: number): boolean {
  return code < 128 && (table[code] & mask) !== 0;
}

export function isAlpha(code: number): boolean {
  return has(code, ALPHA);
}
export function isDigit(code: number): boolean {
  return has(code, DIGIT);
}
export function isHexDigit(code: number): boolean {
  return has(code, HEX);
}

const UNRESERVED = ALPHA | DIGIT | UNRESERVED_MARK;

/** statement = *( reserved / unreserved / " " ) — printable ASCII minus " % < > \ ^ ` { | } */
export function isStatementChar(code: number): boolean {
  return code === 0x20 || has(code, UNRESERVED | SUB_DELIM | GEN_DELIM);
}

/**
 * True when every character of s[from, to) is in `mask` or in `extra`, and every "%" starts a
 * valid pct-encoded triple (when pctAllowed). One pass, no allocation.
 */
function scan(s: string, from: number, to: number, mask: number, extra: string, pctAllowed: boolean): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (has(c, mask)) continue;
    if (c === 0x25 /* % */ && pctAllowed) {
      if (i + 2 >= to || !isHexDigit(s.charCodeAt(i + 1)) || !isHexDigit(s.charCodeAt(i + 2))) return false;
      i += 2;
      continue;
    }
    if (extra.length > 0 && c < 128 && extra.indexOf(s[i]) !== -1) continue;
    return false;
  }
  return true;
}

/** pchar = unreserved / pct-encoded / sub-delims / ":" / "@" (RFC 3986 §3.3) */
export function isPcharString(s: string): boolean {
  return scan(s, 0, s.length, UNRESERVED | SUB_DELIM, ':@', true);
}

/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
export function isScheme(s: string): boolean {
  if (s.length === 0 || !isAlpha(s.charCodeAt(0))) return false;
  return scan(s, 1, s.length, ALPHA | DIGIT, '+-.', false);
}

/** dec-octet "." dec-octet "." dec-octet "." dec-octet, without leading zeros (RFC 3986 §3.2.2) */
export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (p.length < 1 || p.length > 3 || !scan(p, 0, p.length, DIGIT, '', false)) return false;
    if (p.length > 1 && p[0] === '0') return false;
    if (Number(p) > 255) return false;
  }
  return true;
}

function h16Count(part: string, allowV4Tail: boolean): number {
  if (part === '') return 0;
  const groups = part.split(':');
  let count = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (allowV4Tail && i === groups.length - 1 && g.indexOf('.') !== -1) {
      if (!isIPv4(g)) return -1;
      count += 2;
      continue;
    }
    if (g.length < 1 || g.length > 4 || !scan(g, 0, g.length, HEX, '', false)) return -1;
    count++;
  }
  return count;
}

/** IPv6address (RFC 3986 §3.2.2): 8 h16 groups (ls32 may be IPv4), or fewer with one "::". */
export function isIPv6(s: string): boolean {
  const gap = s.indexOf('::');
  if (gap === -1) return h16Count(s, true) === 8;
  if (s.indexOf('::', gap + 1) !== -1) return false;
  const head = h16Count(s.slice(0, gap), false);
  const tail = h16Count(s.slice(gap + 2), true);
  return head >= 0 && tail >= 0 && head + tail <= 7;
}

/** IP-literal = "[" ( IPv6address / IPvFuture ) "]" — without the brackets. */
function isIpLiteralBody(s: string): boolean {
  if (s.length > 0 && (s[0] === 'v' || s[0] === 'V')) {
    // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
    const dot = s.indexOf('.');
    if (dot < 2 || !scan(s, 1, dot, HEX, '', false)) return false;
    return dot + 1 < s.length && scan(s, dot + 1, s.length, UNRESERVED | SUB_DELIM, ':', false);
  }
  return isIPv6(s);
}

export interface Authority {
  userinfo?: string;
  host: string;
  port?: string;
}

/**
 * authority = [ userinfo "@" ] host [ ":" port ] (RFC 3986 §3.2). Returns the parts, or null.
 * Neither userinfo nor host may contain "@", so there is at most one.
 */
export function parseAuthority(s: string): Authority | null {
  let rest = s;
  let userinfo: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    userinfo = rest.slice(0, at);
    if (!scan(userinfo, 0, userinfo.length, UNRESERVED | SUB_DELIM, ':', true)) return null;
    rest = rest.slice(at + 1);
  }
  let host: string;
  let portPart: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1 || !isIpLiteralBody(rest.slice(1, close))) return null;
    host = rest.slice(0, close + 1);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (after[0] !== ':') return null;
      portPart = after.slice(1);
    }
  } else {
    // reg-name (which also covers IPv4address) has no ":", so the first ":" starts the port.
    const colon = rest.indexOf(':');
    host = colon === -1 ? rest : rest.slice(0, colon);
    if (colon !== -1) portPart = rest.slice(colon + 1);
    if (!scan(host, 0, host.length, UNRESERVED | SUB_DELIM, '', true)) return null;
  }
  if (portPart !== undefined && !scan(portPart, 0, portPart.length, DIGIT, '', false)) return null;
  const out: Authority = { host };
  if (userinfo !== undefined) out.userinfo = userinfo;
  if (portPart !== undefined) out.port = portPart;
  return out;
}

/**
 * URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ] (RFC 3986 §3).
 * "#" cannot occur before the fragment and "?" cannot occur before the query, so splitting at
 * their first occurrences is exact. Paths reduce to "pchar or /", with the one rule that a path
 * without authority must not start with "//" (that would be an authority).
 */
export function isUri(s: string): boolean {
  const colon = s.indexOf(':');
  if (colon === -1 || !isScheme(s.slice(0, colon))) return false;
  let end = s.length;
  const hash = s.indexOf('#', colon);
  if (hash !== -1) {
    if (!scan(s, hash + 1, s.length, UNRESERVED | SUB_DELIM, ':@/?', true)) return false;
    end = hash;
  }
  const query = s.indexOf('?', colon);
  if (query !== -1 && query < end) {
    if (!scan(s, query + 1, end, UNRESERVED | SUB_DELIM, ':@/?', true)) return false;
    end = query;
  }
  let pathStart = colon + 1;
  if (s.startsWith('//', pathStart)) {
    let slash = s.indexOf('/', pathStart + 2);
    if (slash === -1 || slash > end) slash = end;
    if (parseAuthority(s.slice(pathStart + 2, slash)) === null) return false;
    pathStart = slash; // path-abempty: empty or starting with "/"
  }
  return scan(s, pathStart, end, UNRESERVED | SUB_DELIM, ':@/', true);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function digits(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/**
 * RFC 3339 §5.6 date-time → epoch milliseconds, or a reason string when it is not one.
 * Checks real calendar dates (2022-02-31 is refused), hours/minutes/offsets in range, and
 * allows second 60 only where a leap second can be: 23:59:60 UTC on the last day of a month.
 * "T" and "Z" may be lower case (ABNF strings are case-insensitive; RFC 3339 §5.6 note).
 */
export function parseDateTime(s: string): number | string {
  if (s.length < 20) return 'too short for an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SSZ)';
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return 'not an RFC 3339 date-time';
  if (s[4] !== '-' || s[7] !== '-' || (s[10] !== 'T' && s[10] !== 't') || s[13] !== ':' || s[16] !== ':') {
    return 'not an RFC 3339 date-time (expected YYYY-MM-DDTHH:MM:SS)';
  }
  if (mo < 1 || mo > 12) return `month ${mo} is out of range`;
  const monthDays = mo === 2 && isLeapYear(y) ? 29 : DAYS_IN_MONTH[mo - 1];
  if (d < 1 || d > monthDays) return `day ${d} does not exist in ${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}`;
  if (h > 23) return `hour ${h} is out of range`;
  if (mi > 59) return `minute ${mi} is out of range`;
  if (sec > 60) return `second ${sec} is out of range`;
  let i = 19;
  let millis = 0;
  if (s[i] === '.') {
    const start = ++i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    if (i === start) return 'empty fraction of a second';
    millis = Number(s.slice(start, Math.min(i, start + 3)).padEnd(3, '0')); // sub-ms digits dropped
  }
  let offsetMinutes = 0;
  const z = s[i];
  if ((z === 'Z' || z === 'z') && i + 1 === s.length) {
    offsetMinutes = 0;
  } else if ((z === '+' || z === '-') && i + 6 === s.length && s[i + 3] === ':') {
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || om < 0) return 'time offset is not +HH:MM / -HH:MM';
    if (oh > 23 || om > 59) return 'time offset is out of range';
    offsetMinutes = (z === '+' ? 1 : -1) * (oh * 60 + om);
  } else {
    return 'missing or malformed time offset (Z or +HH:MM / -HH:MM)';
  }
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, Math.min(sec, 59), millis);
  const epoch = date.getTime() - offsetMinutes * 60_000;
  if (sec === 60) {
    const utc = new Date(epoch);
    const m = utc.getUTCMonth();
    const lastDay = m === 1 && isLeapYear(utc.getUTCFullYear()) ? 29 : DAYS_IN_MONTH[m];
    if (utc.getUTCHours() !== 23 || utc.getUTCMinutes() !== 59 || utc.getUTCDate() !== lastDay) {
      return 'second 60 is only a leap second at 23:59:60 UTC on the last day of a month';
    }
    return epoch + 1000; // the leap second sorts after :59
  }
  return epoch;
}
