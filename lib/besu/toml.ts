/**
 * Reads the flat TOML of Besu configuration files (a node's config.toml, permissions_config.toml): `key=value` lines, values
 * a quoted string, an integer, a boolean or an array of quoted strings (which may span lines), and
 * `#` comments. Anything else throws, so a test never checks a file it misread.
 */
export type FlatTomlValue = string | number | boolean | string[];

export function parseFlatToml(text: string, file = "toml"): Record<string, FlatTomlValue> {
  const out: Record<string, FlatTomlValue> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: not a key=value line: ${line}`);
    const [, key, first] = m;
    if (key in out) throw new Error(`${file}:${i + 1}: ${key} set twice`);
    let raw = first;
    if (raw.startsWith("[")) {
      while (!raw.trimEnd().endsWith("]")) {
        if (++i >= lines.length) throw new Error(`${file}: unterminated array ${key}`);
        raw += lines[i].trim();
      }
      out[key] = JSON.parse(raw) as string[];
      if (!(out[key] as unknown[]).every((v) => typeof v === "string")) throw new Error(`${file}: ${key} is not an array of strings`);
    } else if (/^".*"$/.test(raw)) {
      out[key] = JSON.parse(raw) as string;
    } else if (raw === "true" || raw === "false") {
      out[key] = raw === "true";
    } else if (/^-?\d+$/.test(raw)) {
      out[key] = Number(raw);
    } else {
      throw new Error(`${file}:${i + 1}: unsupported value for ${key}: ${raw}`);
    }
  }
  return out;
}
