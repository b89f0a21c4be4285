/** Replaces every secret value in `text` with `***` (longest first, so overlapping values go whole). */
export function redactor(values: Iterable<string>): (text: string) => string {
  const list = [...new Set([...values].filter((v) => v.length > 0))].sort(
    (a, b) => b.length - a.length,
  );
  if (list.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const v of list) out = out.split(v).join('***');
    return out;
  };
}
