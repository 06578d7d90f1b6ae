import pl from "nodejs-polars";

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/**
 * A polars DataFrame as an HTML table (header, then at most `maxRows` rows). Each numeric column shows the
 * fewest decimals, up to 4, that show all its values exactly (12.3 stays 12.3, an accuracy keeps 4).
 * @example
 * frameHtml(pl.DataFrame({ digit: [0, 1], images: [5923, 6742] }));
 */
export function frameHtml(frame: pl.DataFrame, options: { maxRows?: number; caption?: string } = {}): string {
  const maxRows = options.maxRows ?? 50;
  const columns = frame.columns;
  const rows = frame.head(maxRows).rows();
  const formats = columns.map((_, c) => columnFormat(rows.map((r) => r[c])));
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : "";
  const more = frame.height > maxRows ? `<tr><td colspan="${columns.length}">… ${frame.height - maxRows} more rows</td></tr>` : "";
  return (
    `<table class="mnist-lab-table">${caption}<thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((v, c) => `<td>${escapeHtml(formats[c](v))}</td>`).join("")}</tr>`).join("")}` +
    `${more}</tbody></table>`
  );
}

/**
 * A polars DataFrame as a Markdown table, numbers formatted as frameHtml formats them: what the CLI prints, so a
 * figure can go into README as printed.
 * @example
 * frameMarkdown(pl.DataFrame({ digit: [0, 1], images: [5923, 6742] })); // "| digit | images |\n| --- | --- |\n| 0 | 5923 |…"
 */
export function frameMarkdown(frame: pl.DataFrame): string {
  const rows = frame.rows();
  const formats = frame.columns.map((_, c) => columnFormat(rows.map((r) => r[c])));
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(frame.columns), line(frame.columns.map(() => "---")), ...rows.map((r) => line(r.map((v, c) => formats[c](v))))].join("\n");
}

/** Decimals that show `value` exactly (up to float noise such as 0.1 + 0.2), or 5 when 4 are not enough. */
function exactDecimals(value: number): number {
  for (let d = 0; d <= 4; d++) if (Math.abs(Number(value.toFixed(d)) - value) <= 1e-9 * Math.max(1, Math.abs(value))) return d;
  return 5;
}

/** How one column's cells print: its numbers share one number of decimals. */
function columnFormat(values: unknown[]): (value: unknown) => string {
  // Below 1e-3, four decimals would lose the value (a learning rate of 1e-5): those print as exponents.
  const exponent = (v: number) => v !== 0 && Math.abs(v) < 1e-3 && exactDecimals(v) > 4;
  const fixed = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v) && !exponent(v));
  const decimals = Math.min(4, Math.max(0, ...fixed.map(exactDecimals)));
  return (value) => {
    if (typeof value !== "number" || !Number.isFinite(value)) return String(value ?? "null");
    return exponent(value) ? value.toExponential(3) : value.toFixed(decimals);
  };
}

/** Class counts per split as a frame: `digit`, then one column per split. */
export function classCountFrame(counts: Record<string, number[]>): pl.DataFrame {
  const columns: Record<string, number[]> = { digit: Array.from({ length: 10 }, (_, d) => d) };
  for (const [name, values] of Object.entries(counts)) columns[name] = values;
  return pl.DataFrame(columns);
}
