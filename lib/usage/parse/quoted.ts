/**
 * The usage parser's own CSV field splitting for the rare line with quotes (the hot path splits unquoted
 * lines in place with indexOf).
 */

/** RFC 4180 fields of one line (quoted fields do not span lines), or what is wrong with the quoting. */
export function splitQuoted(text: string): string[] | string {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    const field = fields.length + 1;
    if (text.charCodeAt(i) === 34) {
      let value = "";
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote === -1) return `field ${field}: the quote is not closed on this line`;
        value += text.slice(i, quote);
        i = quote + 1;
        if (text.charCodeAt(i) !== 34) break;
        value += '"';
        i++;
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text.charCodeAt(i) !== 44) return `field ${field}: text after the closing quote`;
      i++;
    } else {
      const end = text.indexOf(",", i);
      const value = end === -1 ? text.slice(i) : text.slice(i, end);
      if (value.includes('"')) return `field ${field}: a quote inside a field that does not start with one`;
      fields.push(value);
      if (end === -1) return fields;
      i = end + 1;
    }
  }
}

/** Commas in text from `from` on. */
export function countCommas(text: string, from: number): number {
  let count = 0;
  for (let i = text.indexOf(",", from); i !== -1; i = text.indexOf(",", i + 1)) count++;
  return count;
}
