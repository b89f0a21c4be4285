/**
 * Groovy literals for the Jenkinsfile printer.
 *
 * Every string goes out as a single-quoted Groovy literal: single quotes never
 * interpolate, so `$x`, `${x}` and `$1` reach the shell untouched, and a secret never
 * passes through a GString. Groovy 2.4 (the line Jenkins runs) replaces `\uXXXX` in
 * the *source text* before it tokenises, like Java. So the only characters written
 * raw are printable ASCII; everything else is an escape, and `\` itself is always
 * doubled first, which keeps an escape from being spliced out of user text.
 */
import { GatehouseError } from '@gatehouse-ci/core';

const HEX = '0123456789abcdef';

function unicodeEscape(unit: number): string {
  return `\\u${HEX[(unit >> 12) & 15]}${HEX[(unit >> 8) & 15]}${HEX[(unit >> 4) & 15]}${HEX[unit & 15]}`;
}

/**
 * Why a Jenkinsfile cannot carry `text` without altering it (`contains …`), or null when
 * it can.
 */
export function unrepresentable(text: string): string | null {
  if (text.includes('\u0000')) return 'contains a NUL character';
  if (/[\uD800-\uDFFF]/u.test(text)) return 'contains a lone surrogate';
  // Groovy 2.4's lexer takes U+FFFF for end of input, raw or written as \uffff
  if (text.includes('\uffff')) return 'contains U+FFFF, which Groovy cannot read in a string';
  return null;
}

/** Thrown for text a Jenkinsfile cannot carry without altering it. */
export function assertRepresentable(text: string, what: string): void {
  const why = unrepresentable(text);
  if (why !== null) throw new GatehouseError('GH_TARGET_EMIT', `${what} ${why}`);
}

/**
 * `text` as a single-quoted Groovy string literal, quotes included. The result is
 * printable ASCII only.
 */
export function groovyString(text: string, what = 'a string'): string {
  assertRepresentable(text, what);
  let out = "'";
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const ch = text[i] as string;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (unit >= 0x20 && unit <= 0x7e) out += ch;
    // surrogate pairs go out as two escapes: Groovy strings are UTF-16 too
    else out += unicodeEscape(unit);
  }
  return out + "'";
}
