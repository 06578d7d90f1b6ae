import pl from "nodejs-polars";

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/**
 * A polars DataFrame as an HTML table (header, then at most `maxRows` rows).
 * @example
 * frameHtml(pl.DataFrame({ digit: [0, 1], images: [5923, 6742] }));
 */
export function frameHtml(frame: pl.DataFrame, options: { maxRows?: number; caption?: string } = {}): string {
  const maxRows = options.maxRows ?? 50;
  const columns = frame.columns;
  const rows = frame.head(maxRows).rows();
  const cell = (value: unknown) => {
    const text = typeof value === "number" && !Number.isInteger(value) ? formatNumber(value) : String(value ?? "null");
    return `<td>${escapeHtml(text)}</td>`;
  };
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : "";
  const more = frame.height > maxRows ? `<tr><td colspan="${columns.length}">… ${frame.height - maxRows} more rows</td></tr>` : "";
  return (
    `<table class="mnist-lab-table">${caption}<thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map(cell).join("")}</tr>`).join("")}${more}</tbody></table>`
  );
}

function formatNumber(value: number): string {
  return Math.abs(value) >= 1e-3 || value === 0 ? value.toFixed(4) : value.toExponential(3);
}

/** Class counts per split as a frame: `digit`, then one column per split. */
export function classCountFrame(counts: Record<string, number[]>): pl.DataFrame {
  const columns: Record<string, number[]> = { digit: Array.from({ length: 10 }, (_, d) => d) };
  for (const [name, values] of Object.entries(counts)) columns[name] = values;
  return pl.DataFrame(columns);
}
