const ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, a: 7 };
const isHex = (c: number | undefined) =>
  c !== undefined &&
  ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46));

/**
 * Splits an inline command line (`SET k "a b"`, what telnet and redis-benchmark's
 * ping_inline send) as Redis's sdssplitargs does: spaces separate, "double quotes" take
 * \n \r \t \b \a \\ \" and \xHH escapes, 'single quotes' take \'. Undefined: unbalanced quotes.
 */
export function splitInline(line: Buffer): Buffer[] | undefined {
  const end = line[line.length - 1] === 13 ? line.length - 1 : line.length;
  const args: Buffer[] = [];
  let i = 0;
  for (;;) {
    while (i < end && isSpace(line[i])) i++;
    if (i >= end) return args;
    const bytes: number[] = [];
    let quote = 0;
    for (;;) {
      if (i >= end) {
        if (quote) return undefined;
        break;
      }
      const c = line[i] as number;
      if (quote === 0x22) {
        if (c === 0x5c && line[i + 1] === 0x78 && isHex(line[i + 2]) && isHex(line[i + 3])) {
          bytes.push(Number.parseInt(line.toString('latin1', i + 2, i + 4), 16));
          i += 4;
          continue;
        }
        if (c === 0x5c && i + 1 < end) {
          const next = String.fromCharCode(line[i + 1] as number);
          bytes.push(ESCAPES[next] ?? (line[i + 1] as number));
          i += 2;
          continue;
        }
        if (c === 0x22) {
          // A closing quote must end the argument.
          if (i + 1 < end && !isSpace(line[i + 1])) return undefined;
          i++;
          break;
        }
      } else if (quote === 0x27) {
        if (c === 0x5c && line[i + 1] === 0x27) {
          bytes.push(0x27);
          i += 2;
          continue;
        }
        if (c === 0x27) {
          if (i + 1 < end && !isSpace(line[i + 1])) return undefined;
          i++;
          break;
        }
      } else if (isSpace(c)) {
        break;
      } else if ((c === 0x22 || c === 0x27) && bytes.length === 0) {
        quote = c;
        i++;
        continue;
      }
      bytes.push(c);
      i++;
    }
    args.push(Buffer.from(bytes));
  }
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a || c === 0x0b || c === 0x0c;
}
