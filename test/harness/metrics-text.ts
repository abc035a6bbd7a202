/**
 * Reads Prometheus' text exposition as the tests need it: every sample line
 * `name{labels} value` becomes an entry `name{labels}` → value (labels as
 * written by the server, comments and blank lines skipped).
 */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
