/**
 * RFC 4180 CSV: comma-separated, double-quoted fields may hold commas, quotes ("") and line
 * breaks; CRLF or LF line ends; blank lines are skipped. Pure, so imports fail with the row.
 */
export type CsvResult = { ok: true; rows: string[][] } | { ok: false; row: number; error: string };

export function parseCsv(text: string): CsvResult {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a spreadsheet's byte-order mark
  const endRow = () => {
    row.push(field);
    if (row.length > 1 || row[0] !== "") rows.push(row);
    row = [];
    field = "";
  };
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
        const next = text[i + 1];
        if (next !== undefined && next !== "," && next !== "\n" && next !== "\r") return { ok: false, row: rows.length + 1, error: "a closing quote must end its field" };
      } else {
        field += ch;
      }
    } else if (ch === '"') {
      if (field !== "") return { ok: false, row: rows.length + 1, error: "a quote may only open a field" };
      quoted = true;
    } else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      endRow();
    } else field += ch;
  }
  if (quoted) return { ok: false, row: rows.length + 1, error: "a quoted field is never closed" };
  if (field !== "" || row.length) endRow();
  return { ok: true, rows };
}
