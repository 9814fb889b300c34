/**
 * Redis's glob patterns (KEYS, SCAN MATCH, CONFIG GET) as a RegExp: `*`, `?`, `[abc]`,
 * `[^a-z]`, and `\` to take the next character literally.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '[\\s\\S]';
    else if (c === '\\' && i + 1 < pattern.length) source += escapeChar(pattern[++i] as string);
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      // Inside a class only \ and ] need escaping for RegExp; - keeps its range meaning.
      source += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = close;
    } else source += escapeChar(c);
  }
  try {
    return new RegExp(`^${source}$`, 'u');
  } catch {
    // A class RegExp cannot take (`[z-a]`): match the pattern's characters literally.
    return new RegExp(`^${[...pattern].map(escapeChar).join('')}$`, 'u');
  }
}

function escapeChar(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
